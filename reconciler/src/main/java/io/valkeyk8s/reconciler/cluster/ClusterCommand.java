package io.valkeyk8s.reconciler.cluster;

import io.valkeyk8s.reconciler.core.StepFailedException;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Option;

/**
 * Shared shape of the one-shot cluster commands: settings from the environment (exit 2 when bad),
 * the pod side and the node connections opened and closed, one error line naming step and node
 * (exit 1).
 */
abstract class ClusterCommand implements Callable<Integer> {
  static final int OK = 0;
  static final int STEP_FAILED = 1;
  static final int BAD_SETTINGS = 2;

  private static final Logger LOG = LoggerFactory.getLogger(ClusterCommand.class);

  @Option(
      names = "--timeout-seconds",
      defaultValue = "600",
      description = "Longest wait for pods, joins and convergence (default ${DEFAULT-VALUE}).")
  long timeoutSeconds = 600;

  private final Map<String, String> env;
  private final Function<ClusterSettings, ClusterPlatform> platforms;
  private MigrationHook hook = MigrationHook.NONE;
  private volatile String lastError;

  ClusterCommand(Map<String, String> env, Function<ClusterSettings, ClusterPlatform> platforms) {
    this.env = env;
    this.platforms = platforms;
  }

  /** Test seam: called after every MIGRATE batch (e.g. to stop a run half way). */
  void migrationHook(MigrationHook hook) {
    this.hook = hook;
  }

  /**
   * The error line of the last failed run, null after success (for tests and callers that log it).
   */
  String lastError() {
    return lastError;
  }

  abstract String name();

  abstract void execute(ClusterOps ops);

  @Override
  public Integer call() {
    ClusterSettings settings;
    try {
      settings = ClusterSettings.fromEnv(env);
    } catch (ClusterSettings.InvalidSettingsException e) {
      lastError = e.getMessage();
      System.err.println("error: " + lastError);
      return BAD_SETTINGS;
    }
    LOG.info("{}: {}", name(), settings);
    try (ClusterPlatform platform = platforms.apply(settings);
        NodeClients clients = settings.nodeClients()) {
      ClusterOps ops =
          new ClusterOps(
              platform.pods(),
              clients,
              settings.layout(),
              new SlotMigrator(hook),
              Duration.ofSeconds(timeoutSeconds));
      lastError = null;
      execute(ops);
      return OK;
    } catch (StepFailedException e) {
      LOG.error("{} failed", name(), e);
      lastError = name() + ": " + e.getMessage();
      System.err.println("error: " + lastError);
      return STEP_FAILED;
    } catch (RuntimeException e) {
      // Kubernetes API errors and the like: same one-line contract, the stack trace goes to the
      // log.
      LOG.error("{} failed", name(), e);
      lastError = name() + ": unexpected failure: " + e;
      System.err.println("error: " + lastError);
      return STEP_FAILED;
    }
  }
}
