package io.valkeyk8s.testsupport;

import io.lettuce.core.api.StatefulRedisConnection;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One valkey-server or valkey-sentinel process of a {@link LoopbackValkey}: started, killed with
 * SIGKILL, stopped with SIGTERM, frozen with SIGSTOP, started again (with its data, on the same or
 * a new address, or wiped like a pod on an empty volume).
 */
public final class ValkeyProcess {
  private static final Duration START = Duration.ofSeconds(20);

  private final LoopbackValkey owner;
  private final String name;
  private final boolean sentinel;
  private final int port;
  private final Path dir;
  private volatile String host;
  private volatile List<String> settings;
  private volatile Process process;

  ValkeyProcess(
      LoopbackValkey owner,
      String name,
      boolean sentinel,
      String host,
      int port,
      Path dir,
      List<String> settings) {
    this.owner = owner;
    this.name = name;
    this.sentinel = sentinel;
    this.host = host;
    this.port = port;
    this.dir = dir;
    this.settings = List.copyOf(settings);
  }

  public String name() {
    return name;
  }

  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  public InetSocketAddress address() {
    return InetSocketAddress.createUnresolved(host, port);
  }

  public Path dir() {
    return dir;
  }

  public boolean isSentinel() {
    return sentinel;
  }

  List<String> settings() {
    return settings;
  }

  public boolean isAlive() {
    Process p = process;
    return p != null && p.isAlive();
  }

  /** The settings of the next start (e.g. a new {@code replicaof}). */
  public void configure(List<String> settings) {
    this.settings = List.copyOf(settings);
  }

  /** The address of the next start, as a pod that comes back with a new IP. */
  public void moveTo(String newHost) {
    this.host = newHost;
  }

  /**
   * Writes the config file and starts the process, waiting until it answers PING. A Sentinel keeps
   * the file it rewrote (its id, epochs, peers) when it starts again.
   */
  public void start() throws IOException {
    Files.createDirectories(dir);
    Path conf = dir.resolve(sentinel ? "sentinel.conf" : "valkey.conf");
    if (!sentinel || !Files.exists(conf)) {
      Files.write(conf, owner.configOf(this));
    }
    process =
        new ProcessBuilder(
                sentinel ? LoopbackValkey.SENTINEL : LoopbackValkey.SERVER, conf.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("stdout.log").toFile())
            .start();
    awaitAnswers();
  }

  /** SIGKILL: no shutdown, no last save, no goodbye to replicas or Sentinels. */
  public void kill() {
    Process p = process;
    if (p != null && p.isAlive()) {
      p.destroyForcibly();
      waitFor(p);
    }
  }

  /** SIGTERM: Valkey flushes its AOF and nodes.conf, like a pod being deleted. */
  public void stop() {
    Process p = process;
    if (p != null && p.isAlive()) {
      p.destroy();
      waitFor(p);
    }
  }

  /** SIGTERM, then start again with the same data and address. */
  public void restart() throws IOException {
    stop();
    start();
  }

  /** SIGSTOP: the process holds its connections and answers nothing, like a frozen node. */
  public void freeze() throws IOException, InterruptedException {
    signal("STOP");
  }

  /** SIGCONT after {@link #freeze}. */
  public void thaw() throws IOException, InterruptedException {
    signal("CONT");
  }

  /** Deletes the data (nodes.conf, AOF, RDB) of a stopped process; its logs stay. */
  public void wipe() throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      files
          .sorted(Comparator.reverseOrder())
          .filter(f -> !f.equals(dir) && !f.getFileName().toString().endsWith(".log"))
          .forEach(f -> f.toFile().delete());
    }
  }

  /** The process log, for failure messages. */
  public String log() {
    try {
      Path log = dir.resolve(sentinel ? "sentinel.log" : "valkey.log");
      return Files.exists(log)
          ? Files.readString(log)
          : Files.readString(dir.resolve("stdout.log"));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  private void awaitAnswers() throws IOException {
    long deadline = System.nanoTime() + START.toNanos();
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      if (!isAlive()) {
        throw new IOException(this + " exited: " + log());
      }
      try (StatefulRedisConnection<String, String> c = owner.connect(this)) {
        if ("PONG".equals(c.sync().ping())) {
          return;
        }
      } catch (RuntimeException notYet) {
        last = notYet.getMessage();
      }
      sleep(50);
    }
    throw new IOException(
        this + " did not answer PING within " + START.toSeconds() + " s: " + last);
  }

  private void signal(String signal) throws IOException, InterruptedException {
    int rc =
        new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid()))
            .inheritIO()
            .start()
            .waitFor();
    if (rc != 0) {
      throw new IOException("kill -" + signal + " " + process.pid() + " failed");
    }
  }

  private static void waitFor(Process p) {
    try {
      p.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return name + "@" + host + ":" + port;
  }
}
