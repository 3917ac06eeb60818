package io.valkeyk8s.reconciler.cluster.command;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.valkeyk8s.reconciler.cluster.topology.ClusterOps;
import io.valkeyk8s.reconciler.cluster.topology.Formation;
import java.util.Map;
import java.util.function.Supplier;
import picocli.CommandLine.Command;

/**
 * Forms the cluster: shard k's lowest ordinal gets its contiguous slot range, every node meets
 * every other, the rest replicate. Each step checks what is already done, so a rerun finishes a
 * partial run.
 *
 * <p>{@code init}: one-shot, for the chart's hook Job. Exit 0 done, 1 a step failed, 2 bad
 * settings.
 */
@Command(
    name = "init",
    mixinStandardHelpOptions = true,
    description =
        "Forms the Valkey Cluster: masters by shard layout, replicas, all 16384 slots (idempotent).")
public final class InitCommand extends OneShotCommand {
  public InitCommand(Map<String, String> env, Supplier<KubernetesClient> kube) {
    super(env, kube);
  }

  @Override
  String name() {
    return "init";
  }

  @Override
  public void execute(ClusterOps ops) {
    Formation.form(ops, "init");
  }
}
