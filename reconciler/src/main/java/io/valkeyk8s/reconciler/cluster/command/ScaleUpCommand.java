package io.valkeyk8s.reconciler.cluster.command;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.valkeyk8s.reconciler.cluster.topology.ClusterOps;
import io.valkeyk8s.reconciler.cluster.topology.PodNode;
import io.valkeyk8s.reconciler.cluster.topology.ShardLayout;
import io.valkeyk8s.reconciler.cluster.topology.Snapshot;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;

/**
 * Adds the new shards' pods: they meet the cluster, new masters take a balanced share of slots,
 * replicas attach.
 *
 * <p>{@code scale-up}: one-shot, for the chart's hook Job. Exit 0 done, 1 a step failed, 2 bad
 * settings.
 */
@Command(
    name = "scale-up",
    mixinStandardHelpOptions = true,
    description =
        "Adds new shards: meets new pods, balances slots within one slot, attaches replicas (idempotent).")
public final class ScaleUpCommand extends OneShotCommand {
  private static final Logger LOG = LoggerFactory.getLogger(ScaleUpCommand.class);

  public ScaleUpCommand(Map<String, String> env, Supplier<KubernetesClient> kube) {
    super(env, kube);
  }

  @Override
  String name() {
    return "scale-up";
  }

  @Override
  public void execute(ClusterOps ops) {
    ShardLayout layout = ops.layout();
    Snapshot before = ops.snapshotOfLayout("scale-up: read nodes");
    ops.requireHealthy("scale-up", before);
    ops.waitForPods(layout.podCount());

    Snapshot snapshot = ops.snapshotOfLayout("scale-up: read nodes");
    List<PodNode> nodes =
        snapshot.members().stream().filter(m -> !layout.isDeparting(m.ordinal())).toList();
    ops.join("scale-up: meet new nodes", nodes);
    // A node refuses imported keys (CLUSTERDOWN) until it sees the cluster ok itself.
    ops.waitHealthy(
        "scale-up: wait until new nodes see the cluster ok",
        nodes.stream().map(PodNode::pod).toList());
    ops.repairOpenSlots("scale-up: close open slots");

    Snapshot joined = ops.snapshotOfLayout("scale-up: read joined nodes");
    List<PodNode> masters = ops.designatedMasters(joined);
    // Replicas first: they then receive the migration states of their primary and can take over
    // mid-move.
    int replicas = ops.attachReplicas("scale-up: attach replicas", joined, masters);
    LOG.info("action=replicas-attached replicas={}", replicas);
    int moved = ops.balance("scale-up: balance slots over " + masters.size() + " masters", masters);
    LOG.info("action=slots-moved slots={}", moved);
    Snapshot balanced = ops.snapshotOfLayout("scale-up: read balanced nodes");
    ops.attachReplicas("scale-up: attach the rest", balanced, ops.designatedMasters(balanced));
    ops.waitHealthy(
        "scale-up: wait for cluster_state:ok", nodes.stream().map(PodNode::pod).toList());
    LOG.info("action=cluster-ok masters={}", masters.size());
  }
}
