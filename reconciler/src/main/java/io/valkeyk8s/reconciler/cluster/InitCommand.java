package io.valkeyk8s.reconciler.cluster;

import java.util.Map;
import java.util.function.Function;
import picocli.CommandLine.Command;

/**
 * {@code init}: one-shot, for the chart's hook Job. Exit 0 done, 1 a step failed, 2 bad settings.
 */
@Command(
    name = "init",
    mixinStandardHelpOptions = true,
    description =
        "Forms the Valkey Cluster: masters by shard layout, replicas, all 16384 slots (idempotent).")
public final class InitCommand extends ClusterCommand {

  /** Production wiring: environment of the process, Kubernetes API from the service account. */
  public InitCommand() {
    this(System.getenv(), KubeClusterPlatform::connect);
  }

  public InitCommand(
      Map<String, String> env, Function<ClusterSettings, ClusterPlatform> platforms) {
    super(env, platforms);
  }

  @Override
  String name() {
    return "init";
  }

  @Override
  void execute(ClusterOps ops) {
    new ClusterInit(ops).run();
  }
}
