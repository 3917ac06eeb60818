package io.valkeyk8s.reconciler.cluster;

import io.valkeyk8s.reconciler.core.StepFailedException;
import java.util.BitSet;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forms the cluster: shard k's lowest ordinal gets its contiguous slot range, every node meets
 * every other, the rest replicate. Each step checks what is already done, so a rerun finishes a
 * partial run.
 */
public final class ClusterInit {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterInit.class);
  private final ClusterOps ops;

  public ClusterInit(ClusterOps ops) {
    this.ops = ops;
  }

  public void run() {
    ShardLayout layout = ops.layout();
    ops.waitForPods(layout.podCount());
    Snapshot snapshot = ops.snapshotOfLayout("init: read nodes");
    List<Member> nodes =
        snapshot.members().stream().filter(m -> !layout.isDeparting(m.ordinal())).toList();

    for (Member m : nodes) {
      if (m.view().isAlone() && m.view().myself().configEpoch() == 0) {
        // Distinct epochs up front spare the cluster its epoch-collision resolution.
        try {
          m.client().step("init: set config epoch").setConfigEpoch(m.ordinal() + 1L);
        } catch (StepFailedException e) {
          LOG.debug("{}", e.getMessage());
        }
      }
    }
    ops.repairOpenSlots("init: close open slots");
    assignMissingSlots(snapshot, layout);
    ops.join("init: meet all nodes", nodes);

    Snapshot joined = ops.snapshotOfLayout("init: read joined nodes");
    List<Member> masters = ops.designatedMasters(joined);
    int replicas = ops.attachReplicas("init: attach replicas", joined, masters);
    LOG.info("init: {} masters, {} replicas attached in this run", masters.size(), replicas);
    ops.waitHealthy(
        "init: wait for cluster_state:ok",
        joined.members().stream()
            .map(Member::pod)
            .filter(p -> !layout.isDeparting(p.ordinal()))
            .toList());
    LOG.info(
        "init: cluster ok with {} masters and {} replicas per master",
        layout.masters(),
        layout.replicasPerMaster());
  }

  /** Gives each shard leader the part of its slot range no node claims yet. */
  private void assignMissingSlots(Snapshot snapshot, ShardLayout layout) {
    BitSet claimed = snapshot.claimedSlots();
    snapshot.joined().forEach(m -> claimed.or(m.view().assignedSlots()));
    for (int shard = 0; shard < layout.masters(); shard++) {
      int ordinal = layout.leaderOrdinal(shard);
      Member leader =
          snapshot
              .byOrdinal(ordinal)
              .orElseThrow(
                  () ->
                      new StepFailedException(
                          "init: assign slots",
                          "pod ordinal " + ordinal,
                          "the pod is not reachable"));
      BitSet missing = new BitSet();
      missing.set(layout.firstSlot(shard), layout.lastSlot(shard) + 1);
      missing.andNot(claimed);
      if (missing.isEmpty()) {
        continue;
      }
      if (!leader.isMaster()) {
        throw new StepFailedException(
            "init: assign slots of shard " + shard,
            leader.describe(),
            "slots "
                + SlotMigrator.ranges(missing)
                + " are unassigned but the shard's first pod is a replica");
      }
      LOG.info(
          "init: {} takes slots {} (shard {})",
          leader.describe(),
          SlotMigrator.ranges(missing),
          shard);
      for (int s = missing.nextSetBit(0); s >= 0; ) {
        int end = missing.nextClearBit(s) - 1;
        leader.client().step("init: add slots " + s + "-" + end).addSlots(s, end);
        s = missing.nextSetBit(end + 1);
      }
    }
  }
}
