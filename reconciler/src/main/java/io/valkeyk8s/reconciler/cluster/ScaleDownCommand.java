package io.valkeyk8s.reconciler.cluster;

import java.util.Map;
import java.util.function.Function;
import picocli.CommandLine.Command;

/**
 * {@code scale-down}: one-shot, for the chart's hook Job. Exit 0 done, 1 a step failed, 2 bad
 * settings.
 */
@Command(
    name = "scale-down",
    mixinStandardHelpOptions = true,
    description =
        "Empties the pods about to be removed: fails over or moves their slots, then forgets them (idempotent).")
public final class ScaleDownCommand extends ClusterCommand {

  /** Production wiring: environment of the process, Kubernetes API from the service account. */
  public ScaleDownCommand() {
    this(System.getenv(), KubeClusterPlatform::connect);
  }

  public ScaleDownCommand(
      Map<String, String> env, Function<ClusterSettings, ClusterPlatform> platforms) {
    super(env, platforms);
  }

  @Override
  String name() {
    return "scale-down";
  }

  @Override
  void execute(ClusterOps ops) {
    new ClusterScaleDown(ops).run();
  }
}
