package io.valkeyk8s.testserver.local;

import static org.awaitility.Awaitility.await;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;

/**
 * Real valkey-server and valkey-sentinel processes on loopback (127.a.b.x) for one test, all killed
 * on {@link #close()} (also when the test failed) and by a shutdown hook if the JVM ends first.
 */
public final class LocalValkey implements AutoCloseable {
  public static final String MASTER_NAME = "myprimary";

  private final Path dir;
  private final List<LocalProcess> processes = new ArrayList<>();
  private final RedisClient client = RedisClient.create();
  private final Thread killOnExit = new Thread(this::killAll, "kill-local-valkey");

  /** A random 127.a.b.0/24 per instance, so parallel test runs on this machine do not meet. */
  private final String subnet =
      "127.%d.%d."
          .formatted(
              ThreadLocalRandom.current().nextInt(2, 255),
              ThreadLocalRandom.current().nextInt(0, 255));

  private int nextAddress = 2;

  public LocalValkey(Path dir) {
    this.dir = dir;
    Runtime.getRuntime().addShutdownHook(killOnExit);
  }

  /** A data node; {@code primary} null starts a primary, otherwise a replica of it. */
  public LocalProcess startServer(String name, LocalProcess primary, int minReplicasToWrite)
      throws IOException {
    LocalProcess server = new LocalProcess(name, "/usr/bin/valkey-server", nextHost(), dir);
    processes.add(server);
    server.start(
        String.join(
            "\n",
            "bind " + server.host(),
            "port " + server.port(),
            // Every node has its own address, as pods do; without these the primary and the
            // Sentinels would see replicas connecting from 127.0.0.1.
            "bind-source-addr " + server.host(),
            "replica-announce-ip " + server.host(),
            "dir " + server.dir(),
            "logfile " + server.dir().resolve(name + ".log"),
            "save \"\"",
            "appendonly no",
            // The first full sync would otherwise wait 5 s for more replicas to join.
            "repl-diskless-sync-delay 0",
            "min-replicas-to-write " + minReplicasToWrite,
            "min-replicas-max-lag 10",
            "masteruser replication",
            "masterauth " + Users.REPLICATION_PASSWORD,
            primary == null ? "" : "replicaof " + primary.host() + " " + primary.port(),
            Users.aclLines()));
    awaitAnswers(server);
    return server;
  }

  /** Starts a killed server again with the config on disk, on the same address. */
  public void restart(LocalProcess server) throws IOException {
    server.start();
    awaitAnswers(server);
  }

  /** A Sentinel monitoring {@code primary} with {@code down-after-milliseconds 1000}. */
  public LocalProcess startSentinel(String name, LocalProcess primary) throws IOException {
    LocalProcess sentinel = new LocalProcess(name, "/usr/bin/valkey-sentinel", nextHost(), dir);
    processes.add(sentinel);
    sentinel.start(
        String.join(
            "\n",
            "bind " + sentinel.host(),
            "port " + sentinel.port(),
            "bind-source-addr " + sentinel.host(),
            "sentinel announce-ip " + sentinel.host(),
            "dir " + sentinel.dir(),
            "logfile " + sentinel.dir().resolve(name + ".log"),
            // Clients and the other Sentinels authenticate with the same password.
            "requirepass " + Users.SENTINEL_PASSWORD,
            "sentinel sentinel-pass " + Users.SENTINEL_PASSWORD,
            "sentinel monitor " + MASTER_NAME + " " + primary.host() + " " + primary.port() + " 2",
            "sentinel down-after-milliseconds " + MASTER_NAME + " 1000",
            "sentinel failover-timeout " + MASTER_NAME + " 10000",
            "sentinel parallel-syncs " + MASTER_NAME + " 1",
            "sentinel auth-user " + MASTER_NAME + " sentinel",
            "sentinel auth-pass " + MASTER_NAME + " " + Users.SENTINEL_PASSWORD,
            ""));
    awaitAnswers(sentinel);
    return sentinel;
  }

  /** Runs one command as {@code admin} on a data node (or on a Sentinel with its password). */
  public <T> T call(LocalProcess process, Function<RedisCommands<String, String>, T> command) {
    try (StatefulRedisConnection<String, String> connection = client.connect(uri(process))) {
      return command.apply(connection.sync());
    }
  }

  public RedisURI uri(LocalProcess process) {
    RedisURI.Builder uri =
        RedisURI.builder()
            .withHost(process.host())
            .withPort(process.port())
            .withTimeout(Duration.ofSeconds(2));
    return process.name().startsWith("sentinel")
        ? uri.withPassword(Users.SENTINEL_PASSWORD.toCharArray()).build()
        : uri.withAuthentication("admin", Users.ADMIN_PASSWORD.toCharArray()).build();
  }

  public RedisClient client() {
    return client;
  }

  /** Writes each process's log to stdout, for a failed test. */
  public void printLogs() {
    for (LocalProcess process : processes) {
      System.out.println("----- " + process + " -----\n" + process.log());
    }
  }

  private void awaitAnswers(LocalProcess process) {
    await("%s answers PING".formatted(process))
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(100))
        .ignoreExceptions()
        .failFast("%s exited:%n%s".formatted(process, process.log()), () -> !process.isAlive())
        .until(() -> "PONG".equals(call(process, RedisCommands::ping)));
  }

  private String nextHost() {
    return subnet + nextAddress++;
  }

  private void killAll() {
    processes.forEach(LocalProcess::kill);
  }

  @Override
  public void close() {
    killAll();
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    try {
      Runtime.getRuntime().removeShutdownHook(killOnExit);
    } catch (IllegalStateException shuttingDown) {
      // the hook runs anyway
    }
  }
}
