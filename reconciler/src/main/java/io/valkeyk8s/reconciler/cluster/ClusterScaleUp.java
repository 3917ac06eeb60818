package io.valkeyk8s.reconciler.cluster;

import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Adds the new shards' pods: they meet the cluster, new masters take a balanced share of slots,
 * replicas attach.
 */
public final class ClusterScaleUp {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterScaleUp.class);
  private final ClusterOps ops;

  public ClusterScaleUp(ClusterOps ops) {
    this.ops = ops;
  }

  public void run() {
    ShardLayout layout = ops.layout();
    Snapshot before = ops.snapshotOfLayout("scale-up: read nodes");
    ops.requireHealthy("scale-up", before);
    ops.waitForPods(layout.podCount());

    Snapshot snapshot = ops.snapshotOfLayout("scale-up: read nodes");
    List<Member> nodes =
        snapshot.members().stream().filter(m -> !layout.isDeparting(m.ordinal())).toList();
    ops.join("scale-up: meet new nodes", nodes);
    // A node refuses imported keys (CLUSTERDOWN) until it sees the cluster ok itself.
    ops.waitHealthy(
        "scale-up: wait until new nodes see the cluster ok",
        nodes.stream().map(Member::pod).toList());
    ops.repairOpenSlots("scale-up: close open slots");

    Snapshot joined = ops.snapshotOfLayout("scale-up: read joined nodes");
    List<Member> masters = ops.designatedMasters(joined);
    // Replicas first: they then receive the migration states of their primary and can take over
    // mid-move.
    int replicas = ops.attachReplicas("scale-up: attach replicas", joined, masters);
    LOG.info("scale-up: attached {} replicas", replicas);
    int moved = ops.balance("scale-up: balance slots over " + masters.size() + " masters", masters);
    LOG.info("scale-up: moved {} slots, {} keys in this run", moved, ops.migrator().keysMoved());
    ops.waitHealthy(
        "scale-up: wait for cluster_state:ok", nodes.stream().map(Member::pod).toList());
    LOG.info("scale-up: cluster ok with {} masters", masters.size());
  }
}
