package io.valkeyk8s.testsupport;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * Real valkey-server and valkey-sentinel processes from /usr/bin, each on its own loopback address
 * (127.a.b.c, like pods with their own IP) and the same ports (Valkey's, its cluster bus +10000,
 * Sentinel's). Every process has a directory with its config file, data and log; everything is
 * killed on {@link #close()} and by a shutdown hook if the JVM ends first.
 *
 * <p>With {@link AclUsers} the servers run the users of config/users.acl (default off), replicas
 * sync as the replication user, Sentinels require the sentinel password and log in to the data
 * nodes as the sentinel user, and {@link #uri} logs in as admin. Without, nobody authenticates.
 * Every setting a process starts with comes from {@link #configOf} and every admin connection from
 * {@link #uri}; {@link #withTls} adds TLS to those two ({@link LoopbackTls}: only TLS on every
 * port, certificates made by the test).
 */
public final class LoopbackValkey implements AutoCloseable {
  static final String SERVER = "/usr/bin/valkey-server";
  static final String SENTINEL = "/usr/bin/valkey-sentinel";

  /** Settings of a cluster node as the cluster tests run them. */
  public static final List<String> CLUSTER_NODE =
      List.of(
          "cluster-enabled yes",
          "cluster-config-file nodes.conf",
          "cluster-node-timeout 2000",
          "cluster-replica-validity-factor 0",
          "appendonly yes",
          "enable-debug-command local");

  private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(2);

  private final Optional<AclUsers> users;
  private volatile Optional<LoopbackTls> tls = Optional.empty();
  private final Path dir;
  private final String subnet;
  private final int port;
  private final int sentinelPort;
  private int nextHost = 10;
  private final List<ValkeyProcess> processes = new CopyOnWriteArrayList<>();
  private final RedisClient lettuce = RedisClient.create();
  private final Thread reaper = new Thread(this::killAll, "loopback-valkey-reaper");

  private LoopbackValkey(Optional<AclUsers> users) throws IOException {
    this.users = users;
    ThreadLocalRandom r = ThreadLocalRandom.current();
    this.subnet = "127." + r.nextInt(20, 250) + "." + r.nextInt(1, 250) + ".";
    this.port = freePort(20000, 29000, 10000);
    this.sentinelPort = freePort(10000, 19000, 0);
    this.dir = Files.createTempDirectory("loopback-valkey");
    Runtime.getRuntime().addShutdownHook(reaper);
  }

  /** Processes with the users of config/users.acl and these passwords. */
  public static LoopbackValkey withUsers(AclUsers users) throws IOException {
    return new LoopbackValkey(Optional.of(users));
  }

  /** Processes without authentication (the default user is on with no password). */
  public static LoopbackValkey withoutAuth() throws IOException {
    return new LoopbackValkey(Optional.empty());
  }

  public Optional<AclUsers> users() {
    return users;
  }

  /**
   * Every process started from now on speaks only TLS, and so do the launcher's connections. Call
   * before the first start; closing the launcher closes it.
   */
  public LoopbackValkey withTls(LoopbackTls tls) {
    if (!processes.isEmpty()) {
      throw new IllegalStateException("withTls must come before the first process starts");
    }
    this.tls = Optional.of(tls);
    lettuce.setOptions(ClientOptions.builder().sslOptions(tls.sslOptions()).build());
    return this;
  }

  public Optional<LoopbackTls> tls() {
    return tls;
  }

  /** The port every valkey-server listens on, on its own address. */
  public int port() {
    return port;
  }

  public int sentinelPort() {
    return sentinelPort;
  }

  /** A loopback address not handed out before, where every port of this launcher is free. */
  public synchronized String newHost() throws IOException {
    while (nextHost < 250) {
      String host = subnet + nextHost++;
      if (bindable(host, port) && bindable(host, port + 10000) && bindable(host, sentinelPort)) {
        return host;
      }
    }
    throw new IOException("no free loopback address left in " + subnet + "0/24");
  }

  /**
   * Starts valkey-server on host and waits until it answers PING.
   *
   * @param settings valkey.conf lines after the launcher's own (a later line wins): {@code
   *     replicaof H P}, {@link #CLUSTER_NODE}, {@code min-replicas-to-write 1}...
   */
  public ValkeyProcess startServer(String name, String host, List<String> settings)
      throws IOException {
    return start(new ValkeyProcess(this, name, false, host, port, dir.resolve(name), settings));
  }

  /**
   * Starts valkey-sentinel on host monitoring the primary (quorum 2) and waits until it answers.
   *
   * @param settings sentinel.conf lines after the monitor line ({@code sentinel down-after-...})
   */
  public ValkeyProcess startSentinel(
      String name, String host, String masterName, InetSocketAddress primary, List<String> settings)
      throws IOException {
    List<String> all = new ArrayList<>();
    all.add(
        "sentinel monitor "
            + masterName
            + " "
            + primary.getHostString()
            + " "
            + primary.getPort()
            + " 2");
    users.ifPresent(
        u -> {
          all.add("sentinel auth-user " + masterName + " " + AclUsers.SENTINEL);
          all.add("sentinel auth-pass " + masterName + " " + u.sentinelPassword());
        });
    all.addAll(settings);
    return start(new ValkeyProcess(this, name, true, host, sentinelPort, dir.resolve(name), all));
  }

  private ValkeyProcess start(ValkeyProcess process) throws IOException {
    processes.add(process);
    process.start();
    return process;
  }

  /** The whole config file of a process: its address, directory and users, then its settings. */
  List<String> configOf(ValkeyProcess p) throws IOException {
    List<String> lines = new ArrayList<>();
    lines.add("bind " + p.host());
    lines.add("port " + p.port());
    // Connections leave from the process's own address, as from a pod's IP; otherwise the
    // primary and the Sentinels would see every replica connecting from 127.0.0.1.
    lines.add("bind-source-addr " + p.host());
    lines.add("dir " + p.dir());
    lines.add("logfile " + p.dir().resolve(p.isSentinel() ? "sentinel.log" : "valkey.log"));
    lines.add("protected-mode no");
    lines.add("daemonize no");
    if (tls.isPresent()) {
      lines.addAll(tls.get().settings(p)); // port 0 after the port line: TLS only
    }
    if (p.isSentinel()) {
      lines.add("sentinel announce-ip " + p.host());
      if (users.isPresent()) {
        lines.add("requirepass " + users.get().sentinelPassword());
      }
    } else {
      lines.add("replica-announce-ip " + p.host());
      lines.add("save \"\"");
      lines.add("appendonly no");
      // The first full sync would otherwise wait 5 s for more replicas to join.
      lines.add("repl-diskless-sync yes");
      lines.add("repl-diskless-sync-delay 0");
      if (users.isPresent()) {
        Path acl = users.get().writeAclFile(dir.resolve("users.acl"));
        lines.add("aclfile " + acl);
        lines.add("masteruser " + AclUsers.REPLICATION);
        lines.add("masterauth " + users.get().replicationPassword());
      }
    }
    lines.addAll(p.settings());
    return lines;
  }

  /** As admin on a server (or with the password on a Sentinel); no login without users. */
  public RedisURI uri(ValkeyProcess p) {
    RedisURI.Builder uri =
        RedisURI.builder().withHost(p.host()).withPort(p.port()).withTimeout(ADMIN_TIMEOUT);
    tls.ifPresent(t -> t.applyTo(uri));
    users.ifPresent(
        u -> {
          if (p.isSentinel()) {
            uri.withPassword(u.sentinelPassword().toCharArray());
          } else {
            uri.withAuthentication(AclUsers.ADMIN, u.adminPassword().toCharArray());
          }
        });
    return uri.build();
  }

  /** A connection as {@link #uri}; the caller closes it. */
  public StatefulRedisConnection<String, String> connect(ValkeyProcess p) {
    return lettuce.connect(uri(p));
  }

  /** Runs one command on its own connection. */
  public <T> T call(ValkeyProcess p, Function<RedisCommands<String, String>, T> command) {
    try (StatefulRedisConnection<String, String> c = connect(p)) {
      return command.apply(c.sync());
    }
  }

  /** The launcher's Lettuce client (pub/sub, Sentinel connections); closed with the launcher. */
  public RedisClient client() {
    return lettuce;
  }

  /** Writes each process's log to stdout, for a failed test. */
  public void printLogs() {
    for (ValkeyProcess p : processes) {
      System.out.println("----- " + p + " -----\n" + p.log());
    }
  }

  private int freePort(int from, int to, int alsoPlus) throws IOException {
    for (int attempt = 0; attempt < 100; attempt++) {
      int candidate = ThreadLocalRandom.current().nextInt(from, to);
      if (bindable("127.0.0.1", candidate)
          && (alsoPlus == 0 || bindable("127.0.0.1", candidate + alsoPlus))) {
        return candidate;
      }
    }
    throw new IOException("no free port in " + from + ".." + to);
  }

  private static boolean bindable(String host, int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getByName(host), port));
      return true;
    } catch (IOException taken) {
      return false;
    }
  }

  private void killAll() {
    processes.forEach(ValkeyProcess::kill);
  }

  @Override
  public void close() {
    killAll();
    lettuce.shutdown(Duration.ZERO, Duration.ofSeconds(1));
    tls.ifPresent(LoopbackTls::close);
    try {
      Runtime.getRuntime().removeShutdownHook(reaper);
    } catch (IllegalStateException shuttingDown) {
      // the hook runs anyway
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException ignored) {
      // temp files only
    }
  }
}
