package io.valkeyk8s.testserver.local;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One valkey-server or valkey-sentinel process from /usr/bin, on its own loopback address and a
 * free port, with its config and log in its own directory.
 */
public final class LocalProcess {
  private final String name;
  private final String host;
  private final int port;
  private final Path dir;
  private final List<String> command;
  private Process process;

  LocalProcess(String name, String binary, String host, Path dir) throws IOException {
    this.name = name;
    this.host = host;
    this.port = freePort(host);
    this.dir = Files.createDirectories(dir.resolve(name));
    this.command = List.of(binary, this.dir.resolve(name + ".conf").toString());
  }

  /** Writes the config (overwriting the previous one) and starts the process. */
  void start(String config) throws IOException {
    Files.writeString(dir.resolve(name + ".conf"), config);
    start();
  }

  /** Starts again with the config on disk (which the process may have rewritten). */
  void start() throws IOException {
    process =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve(name + ".out").toFile())
            .start();
  }

  /** kill -9: no shutdown, no last save, no goodbye to replicas or Sentinels. */
  public void kill() {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  public boolean isAlive() {
    return process != null && process.isAlive();
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

  public Path dir() {
    return dir;
  }

  /** The process log, for failure messages. */
  public String log() {
    try {
      Path log = dir.resolve(name + ".log");
      return Files.exists(log)
          ? Files.readString(log)
          : Files.readString(dir.resolve(name + ".out"));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  private static int freePort(String host) throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(host))) {
      return socket.getLocalPort();
    }
  }

  @Override
  public String toString() {
    return name + "@" + host + ":" + port;
  }
}
