package io.valkeyk8s.testsupport;

import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfig;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.util.List;
import java.util.Optional;

/**
 * A real kube-apiserver with etcd, run by fabric8 kube-api-test in offline mode from the binaries
 * the setup script places under {@code $KUBE_API_TEST_DIR/k8s/<version>-linux-amd64}. Hands out
 * fabric8 clients, and can restart the API server process alone (same port, same certificates, same
 * etcd, so the data survives) to test clients across an outage.
 */
public final class KubeApiServer implements AutoCloseable {
  public static final String VERSION = "1.34.4";
  private static final int START_ATTEMPTS = 3;
  private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(90);

  private final Server server;
  private final String kubeconfig;
  private volatile Process restarted;
  private volatile File restartedLog;

  private KubeApiServer(Server server) {
    this.server = server;
    this.kubeconfig = server.getKubeConfigYaml();
  }

  public static KubeApiServer start() {
    String dir =
        Optional.ofNullable(System.getenv("KUBE_API_TEST_DIR"))
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "KUBE_API_TEST_DIR is not set: source scripts/lib/common.bash (scripts/setup installs the binaries)"));
    if (!new File(dir, "k8s/" + VERSION + "-linux-amd64/kube-apiserver").canExecute()) {
      throw new IllegalStateException(
          "no kube-apiserver " + VERSION + " under " + dir + ": run scripts/setup");
    }
    KubeAPIServerConfig config =
        KubeAPIServerConfigBuilder.anAPIServerConfig()
            .withOfflineMode(true)
            .withApiServerVersion(VERSION)
            .withTestDir(dir)
            .withUpdateKubeConfig(false)
            .withStartupTimeout((int) STARTUP_TIMEOUT.toMillis())
            .build();
    waitUntilSafeToStart();
    // kube-api-test picks free ports and then starts etcd and kube-apiserver on them; on a busy
    // machine another process may take a port in between, and the API server exits at once. A
    // new start picks new ports.
    for (int attempt = 1; ; attempt++) {
      Server server = new Server(config);
      try {
        server.start();
        return new KubeApiServer(server);
      } catch (RuntimeException failed) {
        if (attempt == START_ATTEMPTS) {
          throw failed;
        }
        System.err.println(
            "kube-apiserver did not start ("
                + failed.getMessage()
                + "); attempt "
                + (attempt + 1)
                + " of "
                + START_ATTEMPTS);
        stopQuietly(server);
      }
    }
  }

  /**
   * kube-api-test's readiness wait compares {@code LocalTime.now()} with start + timeout; when that
   * sum passes midnight it wraps to a small time of day and every wait fails at once ("Kube API
   * Server did not start properly", three attempts in 0.09 s, seen in a proof run at 23:59). A
   * start that late waits until just after midnight instead.
   */
  private static void waitUntilSafeToStart() {
    Duration wait = waitBeforeStart(LocalTime.now(), STARTUP_TIMEOUT);
    if (wait.isZero()) {
      return;
    }
    System.err.println(
        "kube-apiserver start waits "
            + wait.toSeconds()
            + " s for midnight to pass (see KubeApiServer)");
    try {
      Thread.sleep(wait.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for midnight", e);
    }
  }

  /** How long a start at {@code now} must wait so that now + timeout does not pass midnight. */
  static Duration waitBeforeStart(LocalTime now, Duration timeout) {
    Duration margin = Duration.ofSeconds(5);
    Duration untilMidnight = Duration.between(now, LocalTime.MAX).plusNanos(1);
    if (untilMidnight.compareTo(timeout.plus(margin)) > 0) {
      return Duration.ZERO;
    }
    return untilMidnight.plus(Duration.ofSeconds(1));
  }

  /**
   * Stops what a failed start left running. kube-api-test's stop also deletes etcd's data directory
   * and throws when the failed start never made it (seen in CI: NoSuchFileException), which must
   * not keep the next attempt from running.
   */
  private static void stopQuietly(Server server) {
    try {
      server.stop();
    } catch (RuntimeException alreadyGone) {
      System.err.println("cleaning up the failed start: " + alreadyGone.getMessage());
    }
  }

  /** A new client; the caller closes it. */
  public KubernetesClient newClient() {
    Config config = Config.fromKubeconfig(kubeconfig);
    config.setRequestTimeout(10_000);
    config.setConnectionTimeout(2_000);
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  public String kubeconfig() {
    return kubeconfig;
  }

  /** Writes the kubeconfig to a file (for a reconciler started as its own process). */
  public Path writeKubeconfig(Path dir) throws java.io.IOException {
    Path file = dir.resolve("kubeconfig");
    Files.writeString(file, kubeconfig);
    return file;
  }

  /** Stops the API server process (etcd keeps running) and returns its command line. */
  public List<String> stopApiServer() throws InterruptedException {
    ProcessHandle apiServer = apiServerProcess();
    List<String> command = new java.util.ArrayList<>();
    command.add(apiServer.info().command().orElseThrow());
    command.addAll(List.of(apiServer.info().arguments().orElseThrow()));
    server.restarting = true; // the library would otherwise stop etcd and delete its data
    apiServer.destroyForcibly();
    apiServer.onExit().join();
    return command;
  }

  /** Starts the API server again with the same command line and waits until it answers. */
  public void startApiServer(List<String> command) throws Exception {
    File log = File.createTempFile("kube-apiserver-restarted", ".log");
    restartedLog = log;
    restarted = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log).start();
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    try (KubernetesClient client = newClient()) {
      while (true) {
        try {
          client.namespaces().withName("default").get();
          return;
        } catch (RuntimeException notYet) {
          if (System.nanoTime() > deadline || !restarted.isAlive()) {
            throw new IllegalStateException(
                "kube-apiserver did not come back; log: " + log, notYet);
          }
          Thread.sleep(200);
        }
      }
    }
  }

  private ProcessHandle apiServerProcess() {
    ProcessHandle current = restarted != null ? restarted.toHandle() : null;
    if (current != null && current.isAlive()) {
      return current;
    }
    return ProcessHandle.current()
        .descendants()
        .filter(p -> p.info().command().map(c -> c.endsWith("kube-apiserver")).orElse(false))
        .filter(ProcessHandle::isAlive)
        .findFirst()
        .orElseThrow(() -> new IllegalStateException("no kube-apiserver process"));
  }

  @Override
  public void close() {
    Process p = restarted;
    if (p != null) {
      p.destroyForcibly();
      try {
        p.waitFor();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    server.restarting = false;
    server.stop();
    if (restartedLog != null) {
      restartedLog.delete();
    }
  }

  /** kube-api-test's server, told to ignore the exit of an API server we restart on purpose. */
  private static final class Server extends KubeAPIServer {
    volatile boolean restarting;

    Server(KubeAPIServerConfig config) {
      super(config);
    }

    @Override
    public void processStopped(Process process) {
      if (!restarting) {
        super.processStopped(process);
      }
    }
  }
}
