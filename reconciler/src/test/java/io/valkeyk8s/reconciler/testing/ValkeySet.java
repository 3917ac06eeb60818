package io.valkeyk8s.reconciler.testing;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.sentinel.api.StatefulRedisSentinelConnection;
import io.valkeyk8s.reconciler.Address;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Real valkey-server and valkey-sentinel processes (from /usr/bin) on loopback, one "pod" per
 * address 127.A.B.(10+i): node i runs a Valkey (primary for i = 0, replicas after) and a Sentinel,
 * like a pod of the chart. ACL users as in the chart (admin, replication, sentinel; default off),
 * Sentinel with requirepass, down-after 1000 ms, diskless sync without delay. Helpers kill -9,
 * SIGSTOP/SIGCONT and restart processes; {@link #close()} kills everything.
 */
public final class ValkeySet implements AutoCloseable {
  public static final String MASTER = "myprimary";
  public static final String ADMIN_PASSWORD = "admin-pw";
  public static final String SENTINEL_PASSWORD = "sentinel-pw";
  private static final String VALKEY = "/usr/bin/valkey-server";
  private static final String SENTINEL = "/usr/bin/valkey-sentinel";
  private static final Duration WAIT = Duration.ofSeconds(30);

  private final int size;
  private final String prefix;
  private final int port;
  private final int sentinelPort;
  private final Path dir;
  private final Process[] valkeys;
  private final Process[] sentinels;
  private final RedisClient lettuce = RedisClient.create();
  private final Thread cleanup = new Thread(this::killAll, "valkey-set-cleanup");

  private ValkeySet(int size) throws IOException {
    this.size = size;
    ThreadLocalRandom r = ThreadLocalRandom.current();
    this.prefix = "127." + r.nextInt(100, 250) + "." + r.nextInt(1, 250) + ".";
    this.port = freePort();
    int s;
    do {
      s = freePort();
    } while (s == port);
    this.sentinelPort = s;
    this.dir = Files.createTempDirectory("valkey-set");
    this.valkeys = new Process[size];
    this.sentinels = new Process[size];
    Runtime.getRuntime().addShutdownHook(cleanup);
  }

  /** Starts node 0 as primary, the others as its replicas, then a Sentinel on every node. */
  public static ValkeySet start(int size) throws Exception {
    ValkeySet set = new ValkeySet(size);
    try {
      for (int i = 0; i < size; i++) {
        set.startValkey(i, i == 0 ? Optional.empty() : Optional.of(set.valkeyAddress(0)));
      }
      for (int i = 0; i < size; i++) {
        set.startSentinel(i, set.valkeyAddress(0));
      }
      set.awaitStable();
      return set;
    } catch (Exception e) {
      set.close();
      throw e;
    }
  }

  public String ip(int node) {
    return prefix + (10 + node);
  }

  public int size() {
    return size;
  }

  public int valkeyPort() {
    return port;
  }

  public int sentinelPort() {
    return sentinelPort;
  }

  public Address valkeyAddress(int node) {
    return new Address(ip(node), port);
  }

  public Address sentinelAddress(int node) {
    return new Address(ip(node), sentinelPort);
  }

  /** Node index of an address. */
  public int nodeOf(Address address) {
    for (int i = 0; i < size; i++) {
      if (ip(i).equals(address.host())) {
        return i;
      }
    }
    throw new IllegalArgumentException("not a node: " + address);
  }

  // ---- processes

  private void startValkey(int i, Optional<Address> primary) throws IOException {
    Path d = Files.createDirectories(dir.resolve("valkey-" + i));
    Files.deleteIfExists(d.resolve("dump.rdb"));
    StringBuilder conf =
        new StringBuilder()
            .append("bind ")
            .append(ip(i))
            .append('\n')
            .append("port ")
            .append(port)
            .append('\n')
            .append("dir ")
            .append(d)
            .append('\n')
            .append("logfile ")
            .append(d.resolve("valkey.log"))
            .append('\n')
            .append("save \"\"\nappendonly no\nprotected-mode no\n")
            .append("repl-diskless-sync yes\nrepl-diskless-sync-delay 0\n")
            .append("replica-announce-ip ")
            .append(ip(i))
            .append('\n')
            .append("bind-source-addr ")
            .append(ip(i))
            .append('\n')
            .append("user default off\n")
            .append("user admin on >")
            .append(ADMIN_PASSWORD)
            .append(" ~* &* +@all\n")
            .append("user replication on >replication-pw +psync +replconf +ping\n")
            .append(
                "user sentinel on >sentinel-user-pw allchannels +multi +slaveof +replicaof +ping +exec"
                    + " +subscribe +config|rewrite +role +publish +info +client|setname +client|kill +script|kill\n")
            .append("masteruser replication\nmasterauth replication-pw\n");
    primary.ifPresent(
        p -> conf.append("replicaof ").append(p.host()).append(' ').append(p.port()).append('\n'));
    Path file = d.resolve("valkey.conf");
    Files.writeString(file, conf);
    valkeys[i] =
        new ProcessBuilder(VALKEY, file.toString())
            .redirectErrorStream(true)
            .redirectOutput(d.resolve("stdout.log").toFile())
            .start();
    awaitPing(valkeyAddress(i), false);
  }

  private void startSentinel(int i, Address primary) throws IOException {
    Path d = Files.createDirectories(dir.resolve("sentinel-" + i));
    Path file = d.resolve("sentinel.conf");
    if (!Files.exists(file)) { // a restart keeps the file Sentinel rewrote (its id, epochs, peers)
      Files.writeString(
          file,
          "bind "
              + ip(i)
              + "\n"
              + "port "
              + sentinelPort
              + "\n"
              + "dir "
              + d
              + "\n"
              + "logfile "
              + d.resolve("sentinel.log")
              + "\n"
              + "protected-mode no\n"
              + "requirepass "
              + SENTINEL_PASSWORD
              + "\n"
              + "sentinel announce-ip "
              + ip(i)
              + "\n"
              + "sentinel monitor "
              + MASTER
              + " "
              + primary.host()
              + " "
              + primary.port()
              + " 2\n"
              + "sentinel down-after-milliseconds "
              + MASTER
              + " 1000\n"
              + "sentinel failover-timeout "
              + MASTER
              + " 2000\n"
              + "sentinel parallel-syncs "
              + MASTER
              + " 2\n"
              + "sentinel auth-user "
              + MASTER
              + " sentinel\n"
              + "sentinel auth-pass "
              + MASTER
              + " sentinel-user-pw\n");
    }
    sentinels[i] =
        new ProcessBuilder(SENTINEL, file.toString())
            .redirectErrorStream(true)
            .redirectOutput(d.resolve("stdout.log").toFile())
            .start();
    awaitPing(sentinelAddress(i), true);
  }

  /** kill -9 of node i's Valkey. */
  public void killValkey(int i) throws InterruptedException {
    valkeys[i].destroyForcibly();
    valkeys[i].waitFor();
  }

  /** Starts node i's Valkey again, empty, as a replica of the primary the Sentinels name. */
  public void restartValkeyAsReplica(int i) throws Exception {
    startValkey(i, Optional.of(primaryBySentinels().orElseThrow()));
  }

  public void freezeValkey(int i) throws Exception {
    signal(valkeys[i], "STOP");
  }

  public void thawValkey(int i) throws Exception {
    signal(valkeys[i], "CONT");
  }

  public void killSentinel(int i) throws InterruptedException {
    sentinels[i].destroyForcibly();
    sentinels[i].waitFor();
  }

  public void restartSentinel(int i) throws Exception {
    startSentinel(i, valkeyAddress(0));
  }

  private static void signal(Process p, String signal) throws Exception {
    int rc =
        new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid()))
            .inheritIO()
            .start()
            .waitFor();
    if (rc != 0) {
      throw new IllegalStateException("kill -" + signal + " " + p.pid() + " failed");
    }
  }

  // ---- questions

  /** The address a majority of the running Sentinels names as primary. */
  public Optional<Address> primaryBySentinels() {
    Map<Address, Integer> votes = new HashMap<>();
    for (int i = 0; i < size; i++) {
      if (sentinels[i] == null || !sentinels[i].isAlive()) {
        continue;
      }
      try (StatefulRedisSentinelConnection<String, String> c =
          lettuce.connectSentinel(sentinelUri(i))) {
        SocketAddress a = c.sync().getMasterAddrByName(MASTER);
        if (a instanceof InetSocketAddress isa) {
          votes.merge(new Address(isa.getHostString(), isa.getPort()), 1, Integer::sum);
        }
      } catch (RuntimeException ignored) {
        // a stopped Sentinel does not vote
      }
    }
    return votes.entrySet().stream()
        .filter(e -> e.getValue() > size / 2)
        .map(Map.Entry::getKey)
        .findFirst();
  }

  /** ROLE of node i's Valkey ("master", "slave"), or empty when it does not answer. */
  public Optional<String> role(int i) {
    try (StatefulRedisConnection<String, String> c = lettuce.connect(valkeyUri(i))) {
      return Optional.of(String.valueOf(c.sync().role().get(0)));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /** A connection to node i's Valkey as admin; the caller closes it. */
  public StatefulRedisConnection<String, String> connect(int i) {
    return lettuce.connect(valkeyUri(i));
  }

  /**
   * Stable: a majority of Sentinels agree, that node is master with every other node as an online
   * replica.
   */
  public Address awaitStable() throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      Optional<Address> primary = primaryBySentinels();
      if (primary.isPresent()) {
        int p = nodeOf(primary.get());
        try (StatefulRedisConnection<String, String> c = lettuce.connect(valkeyUri(p))) {
          String info = c.sync().info("replication");
          long online =
              info.lines().filter(l -> l.startsWith("slave") && l.contains("state=online")).count();
          boolean replicasUp = true;
          for (int i = 0; i < size; i++) {
            if (i != p && !linkUp(i)) {
              replicasUp = false;
            }
          }
          if (info.contains("role:master")
              && online == size - 1
              && replicasUp
              && sentinelsSeeReplicas(primary.get())) {
            return primary.get();
          }
          last = "primary=" + primary.get() + " online=" + online + " replicasUp=" + replicasUp;
        } catch (RuntimeException e) {
          last = e.getMessage();
        }
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("Valkey set not stable within " + WAIT + ": " + last);
  }

  private boolean linkUp(int i) {
    try (StatefulRedisConnection<String, String> c = lettuce.connect(valkeyUri(i))) {
      return c.sync().info("replication").contains("master_link_status:up");
    } catch (RuntimeException e) {
      return false;
    }
  }

  /**
   * Every running Sentinel knows the primary and sees every other node as a replica that is not
   * down.
   */
  private boolean sentinelsSeeReplicas(Address primary) {
    for (int i = 0; i < size; i++) {
      if (sentinels[i] == null || !sentinels[i].isAlive()) {
        continue;
      }
      try (StatefulRedisSentinelConnection<String, String> c =
          lettuce.connectSentinel(sentinelUri(i))) {
        long ok =
            c.sync().replicas(MASTER).stream()
                .filter(
                    r ->
                        !r.get("flags").contains("down")
                            && !r.get("flags").contains("disconnected"))
                .count();
        if (ok < size - 1
            || c.sync()
                    .dispatch(
                        io.lettuce.core.protocol.CommandType.SENTINEL,
                        new io.lettuce.core.output.ListOfMapsOutput<>(
                            io.lettuce.core.codec.StringCodec.UTF8),
                        new io.lettuce.core.protocol.CommandArgs<>(
                                io.lettuce.core.codec.StringCodec.UTF8)
                            .add("SENTINELS")
                            .add(MASTER))
                    .size()
                < runningSentinels() - 1) {
          return false;
        }
      } catch (RuntimeException e) {
        return false;
      }
    }
    return true;
  }

  private int runningSentinels() {
    int n = 0;
    for (Process p : sentinels) {
      if (p != null && p.isAlive()) {
        n++;
      }
    }
    return n;
  }

  private RedisURI valkeyUri(int i) {
    return RedisURI.builder()
        .withHost(ip(i))
        .withPort(port)
        .withAuthentication("admin", ADMIN_PASSWORD.toCharArray())
        .withTimeout(Duration.ofSeconds(1))
        .build();
  }

  public RedisURI sentinelUri(int i) {
    return RedisURI.builder()
        .withHost(ip(i))
        .withPort(sentinelPort)
        .withPassword(SENTINEL_PASSWORD.toCharArray())
        .withTimeout(Duration.ofSeconds(1))
        .build();
  }

  private void awaitPing(Address address, boolean sentinel) throws IOException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      try (var socket = new java.net.Socket()) {
        socket.connect(new InetSocketAddress(address.host(), address.port()), 200);
        return;
      } catch (IOException notYet) {
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException(e);
        }
      }
    }
    throw new IOException(
        (sentinel ? "sentinel" : "valkey") + " at " + address + " did not start; see " + dir);
  }

  /** A port free on every address of this set. */
  private int freePort() throws IOException {
    for (int attempt = 0; attempt < 100; attempt++) {
      int candidate = ThreadLocalRandom.current().nextInt(20000, 60000);
      boolean free = true;
      for (int i = 0; i < 8 && free; i++) {
        try (ServerSocket s = new ServerSocket()) {
          s.bind(new InetSocketAddress(InetAddress.getByName(prefix + (10 + i)), candidate));
        } catch (IOException taken) {
          free = false;
        }
      }
      if (free) {
        return candidate;
      }
    }
    throw new IOException("no free port");
  }

  private void killAll() {
    List<Process> all = new ArrayList<>();
    for (Process p : valkeys) {
      if (p != null) {
        all.add(p);
      }
    }
    for (Process p : sentinels) {
      if (p != null) {
        all.add(p);
      }
    }
    all.forEach(Process::destroyForcibly);
    all.forEach(
        p -> {
          try {
            p.waitFor();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
  }

  @Override
  public void close() {
    killAll();
    lettuce.shutdown(Duration.ZERO, Duration.ofSeconds(1));
    try {
      Runtime.getRuntime().removeShutdownHook(cleanup);
    } catch (IllegalStateException shuttingDown) {
      // already running
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // temp files only
    }
  }
}
