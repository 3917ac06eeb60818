package io.valkeyk8s.reconciler.cluster.command;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.valkeyk8s.reconciler.cluster.topology.ClusterOps;
import io.valkeyk8s.reconciler.cluster.topology.ClusterPod;
import io.valkeyk8s.reconciler.cluster.topology.MigrationHook;
import io.valkeyk8s.reconciler.cluster.topology.ShardLayout;
import io.valkeyk8s.reconciler.cluster.topology.SlotMigrator;
import io.valkeyk8s.reconciler.cluster.topology.UnsupportedServerException;
import io.valkeyk8s.reconciler.core.Config;
import io.valkeyk8s.reconciler.core.ConfigException;
import io.valkeyk8s.reconciler.core.StepFailedException;
import io.valkeyk8s.reconciler.kube.PodIndex;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import io.valkeyk8s.reconciler.valkey.PodNames;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

/**
 * Shared shape of the one-shot cluster commands (the chart's hook Jobs): settings from the
 * environment (exit 2 when bad), the pod cache and the node connections opened and closed, one
 * error line naming step and node (exit 1).
 */
public abstract class OneShotCommand implements Callable<Integer> {
  static final int OK = 0;
  static final int STEP_FAILED = 1;
  static final int BAD_SETTINGS = 2;

  private static final Logger LOG = LoggerFactory.getLogger(OneShotCommand.class);

  /** Longest wait for the first list of the pods from the API server. */
  private static final Duration POD_SYNC = Duration.ofSeconds(60);

  @Option(
      names = "--timeout-seconds",
      defaultValue = "600",
      description = "Longest wait for pods, joins and convergence (default ${DEFAULT-VALUE}).")
  long timeoutSeconds = 600;

  private final Map<String, String> env;
  private final Supplier<KubernetesClient> kube;
  private MigrationHook hook = MigrationHook.NONE;
  private String minimumVersion;
  private volatile String lastError;

  /**
   * @param kube opens the Kubernetes client the command uses and closes
   */
  OneShotCommand(Map<String, String> env, Supplier<KubernetesClient> kube) {
    this.env = env;
    this.kube = kube;
  }

  /** The longest wait of any step (the {@code --timeout-seconds} option). */
  public void timeoutSeconds(long seconds) {
    this.timeoutSeconds = seconds;
  }

  /**
   * Test seam: called after every MIGRATESLOTS job started (and every MIGRATE batch of a repair of
   * an open slot), e.g. to stop a run half way.
   */
  public void migrationHook(MigrationHook hook) {
    this.hook = hook;
  }

  /**
   * Test seam: the server version moving slots requires (default that of atomic slot migration), to
   * see the refusal against a real, newer server.
   */
  public void requireVersion(String minimum) {
    this.minimumVersion = minimum;
  }

  /**
   * The error line of the last failed run, null after success (for tests and callers that log it).
   */
  public String lastError() {
    return lastError;
  }

  abstract String name();

  /** The command's steps; a step that cannot be done throws {@link StepFailedException}. */
  public abstract void execute(ClusterOps ops);

  @Override
  public Integer call() {
    Config config;
    Config.Cluster cluster;
    try {
      config = Config.fromEnv(env);
      cluster = Config.Cluster.fromEnv(env, config);
    } catch (ConfigException e) {
      return failed(BAD_SETTINGS, "invalid configuration: " + e.getMessage());
    }
    LOG.info("action=start command={} {} {}", name(), cluster, config);
    Duration timeout = Duration.ofSeconds(timeoutSeconds);
    try (KubernetesClient client = kube.get();
        PodIndex pods = new PodIndex(client, config.namespace(), config.podSelector(), () -> {});
        NodeClients nodes =
            ClusterOps.nodeClients(
                config,
                Math.max(2, Runtime.getRuntime().availableProcessors()),
                PodNames.of(
                    ip -> pods.stableNameOf(ip, config.tls().clusterDomain()), pods::ipOf))) {
      Duration sync = timeout.compareTo(POD_SYNC) < 0 ? timeout : POD_SYNC;
      if (!pods.startAndAwaitSync(sync)) {
        throw new StepFailedException(
            "read pods",
            null,
            "the pod cache did not sync from the API server within " + sync.toSeconds() + " s");
      }
      ClusterOps ops =
          new ClusterOps(
              () -> ClusterPod.of(pods, config.valkeyPort()),
              nodes,
              ShardLayout.of(cluster),
              new SlotMigrator(hook),
              timeout);
      lastError = null;
      if (minimumVersion != null) {
        ops.requireVersion(minimumVersion);
      }
      execute(ops);
      LOG.info("action=done command={}", name());
      return OK;
    } catch (UnsupportedServerException e) {
      return failed(BAD_SETTINGS, name() + ": " + e.getMessage());
    } catch (StepFailedException e) {
      return failed(STEP_FAILED, name() + ": " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return failed(STEP_FAILED, name() + ": interrupted");
    } catch (RuntimeException e) {
      // Kubernetes API errors and the like: the same one line; the trace only at debug level.
      LOG.debug("{} failed", name(), e);
      return failed(STEP_FAILED, name() + ": unexpected failure: " + e);
    }
  }

  /** One log line and one "error: ..." line on stderr, no stack trace; returns the exit code. */
  private int failed(int exitCode, String error) {
    lastError = error;
    LOG.error("action=failed command={} exit={} error=\"{}\"", name(), exitCode, oneLine(error));
    System.err.println("error: " + error);
    return exitCode;
  }

  private static String oneLine(String text) {
    return text.replace('\n', ' ').replace('"', '\'');
  }
}
