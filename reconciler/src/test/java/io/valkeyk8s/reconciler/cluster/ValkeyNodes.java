package io.valkeyk8s.reconciler.cluster;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Test fixture: real valkey-server processes in cluster mode, one per "pod", each on its own
 * loopback address (127.a.b.c) and the same port, like pods with their own IP. Nodes keep their
 * temp dir (nodes.conf, AOF) across restarts; a restart may move a node to a new address.
 */
final class ValkeyNodes implements AutoCloseable {
  private static final String SERVER = "/usr/bin/valkey-server";

  private final Path root;
  private final int port;
  private final int netA = ThreadLocalRandom.current().nextInt(20, 250);
  private final int netB = ThreadLocalRandom.current().nextInt(1, 250);
  private int nextHost = 10;
  private final List<Node> nodes = new ArrayList<>();
  private final Thread reaper = new Thread(this::killAll);
  private final AclUsers users;
  private final Path aclFile;

  final class Node {
    final int index;
    final Path dir;
    String host;
    Process process;

    Node(int index, Path dir) {
      this.index = index;
      this.dir = dir;
    }

    NodeAddress address() {
      return new NodeAddress(host, port);
    }

    boolean running() {
      return process != null && process.isAlive();
    }
  }

  /** Nodes without authentication (the default user is on with no password). */
  ValkeyNodes() throws IOException {
    this(null);
  }

  /**
   * Nodes with users like production when users is set: the ACL file of config/users.acl (default
   * off) and replicas authenticating to their primary as the replication user.
   */
  ValkeyNodes(AclUsers users) throws IOException {
    root = Files.createTempDirectory("valkey-cluster-it");
    port = freePort();
    this.users = users;
    this.aclFile = users == null ? null : users.writeAclFile(root.resolve("users.acl"));
    Runtime.getRuntime().addShutdownHook(reaper);
  }

  /** The ACL users the nodes run with, or null when they run without authentication. */
  AclUsers users() {
    return users;
  }

  int port() {
    return port;
  }

  List<Node> nodes() {
    return nodes;
  }

  Node node(int index) {
    return nodes.get(index);
  }

  /** Starts nodes until there are count of them (index = pod ordinal). */
  void startUpTo(int count) throws IOException {
    while (nodes.size() < count) {
      Node node =
          new Node(nodes.size(), Files.createDirectories(root.resolve("node-" + nodes.size())));
      nodes.add(node);
      start(node, newHost());
    }
  }

  /** Kills the highest nodes and drops them (a StatefulSet scale-down). */
  void removeAbove(int count) {
    while (nodes.size() > count) {
      Node node = nodes.remove(nodes.size() - 1);
      kill9(node);
    }
  }

  void kill9(Node node) {
    if (node.process != null) {
      node.process.destroyForcibly();
      waitFor(node.process);
    }
  }

  /** SIGTERM: Valkey flushes its AOF and nodes.conf, like a pod being deleted. */
  void stop(Node node) {
    if (node.process != null) {
      node.process.destroy();
      waitFor(node.process);
    }
  }

  /** Starts a stopped node again with its data, on a new address when newAddress is set. */
  void restart(Node node, boolean newAddress) throws IOException {
    stop(node);
    start(node, newAddress ? newHost() : node.host);
  }

  /** Deletes a stopped node's nodes.conf and data, like a pod coming back on an empty volume. */
  void wipe(Node node) throws IOException {
    try (Stream<Path> files = Files.walk(node.dir)) {
      files
          .sorted(Comparator.reverseOrder())
          .filter(p -> !p.equals(node.dir))
          .forEach(p -> p.toFile().delete());
    }
  }

  /**
   * Starts an already stopped node again (to restart several at once: stop all, then relaunch all).
   */
  void relaunch(Node node, boolean newAddress) throws IOException {
    start(node, newAddress ? newHost() : node.host);
  }

  private void start(Node node, String host) throws IOException {
    node.host = host;
    List<String> cmd =
        new ArrayList<>(
            List.of(
                SERVER,
                "--bind",
                host,
                "--bind-source-addr",
                host,
                "--port",
                String.valueOf(port),
                "--protected-mode",
                "no",
                "--daemonize",
                "no",
                "--dir",
                node.dir.toString(),
                "--logfile",
                node.dir.resolve("valkey.log").toString(),
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                node.dir.resolve("nodes.conf").toString(),
                "--cluster-node-timeout",
                "2000",
                "--cluster-replica-validity-factor",
                "0",
                "--appendonly",
                "yes",
                "--save",
                "",
                "--enable-debug-command",
                "local"));
    if (users != null) {
      // As config/valkey.conf: users from the ACL file, replicas sync as the replication user.
      cmd.addAll(
          List.of(
              "--aclfile",
              aclFile.toString(),
              "--masteruser",
              AclUsers.REPLICATION,
              "--masterauth",
              users.replicationPassword()));
    }
    node.process =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(node.dir.resolve("stdout.log").toFile())
            .start();
    awaitListening(node);
  }

  private void awaitListening(Node node) throws IOException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      if (!node.process.isAlive()) {
        throw new IOException(
            "valkey-server "
                + node.address()
                + " exited: "
                + Files.readString(node.dir.resolve("valkey.log")));
      }
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress(node.host, port), 200);
        return;
      } catch (IOException e) {
        sleep(50);
      }
    }
    throw new IOException("valkey-server " + node.address() + " did not listen within 20 s");
  }

  /** A fresh loopback address where both the client and the bus port are free. */
  private String newHost() throws IOException {
    while (nextHost < 250) {
      String host = "127." + netA + "." + netB + "." + nextHost++;
      if (bindable(host, port) && bindable(host, port + 10000)) {
        return host;
      }
    }
    throw new IOException("no free loopback address left");
  }

  private static int freePort() throws IOException {
    for (int i = 0; i < 50; i++) {
      int candidate = ThreadLocalRandom.current().nextInt(20000, 29000);
      if (bindable("127.0.0.1", candidate) && bindable("127.0.0.1", candidate + 10000)) {
        return candidate;
      }
    }
    throw new IOException("no free port");
  }

  private static boolean bindable(String host, int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress(InetAddress.getByName(host), port));
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static void waitFor(Process p) {
    try {
      p.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void killAll() {
    nodes.forEach(
        n -> {
          if (n.process != null) {
            n.process.destroyForcibly();
          }
        });
  }

  @Override
  public void close() throws IOException {
    killAll();
    nodes.forEach(
        n -> {
          if (n.process != null) {
            waitFor(n.process);
          }
        });
    try {
      Runtime.getRuntime().removeShutdownHook(reaper);
    } catch (IllegalStateException e) {
      // already shutting down
    }
    try (Stream<Path> files = Files.walk(root)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
