package io.valkeyk8s.reconciler.cluster;

import java.util.Map;
import java.util.function.Function;
import picocli.CommandLine.Command;

/**
 * {@code scale-up}: one-shot, for the chart's hook Job. Exit 0 done, 1 a step failed, 2 bad
 * settings.
 */
@Command(
    name = "scale-up",
    mixinStandardHelpOptions = true,
    description =
        "Adds new shards: meets new pods, balances slots within one slot, attaches replicas (idempotent).")
public final class ScaleUpCommand extends ClusterCommand {

  /** Production wiring: environment of the process, Kubernetes API from the service account. */
  public ScaleUpCommand() {
    this(System.getenv(), KubeClusterPlatform::connect);
  }

  public ScaleUpCommand(
      Map<String, String> env, Function<ClusterSettings, ClusterPlatform> platforms) {
    super(env, platforms);
  }

  @Override
  String name() {
    return "scale-up";
  }

  @Override
  void execute(ClusterOps ops) {
    new ClusterScaleUp(ops).run();
  }
}
