package io.valkeyk8s.reconciler.cluster.topology;

import io.valkeyk8s.reconciler.core.StepFailedException;
import java.util.BitSet;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Forming a new cluster: what {@code init} does, and the healer when every pod lost its data. */
public final class Formation {
  private static final Logger LOG = LoggerFactory.getLogger(Formation.class);

  private Formation() {}

  /**
   * Forms the cluster from the pods of the layout (the ordinal layout places the first masters):
   * shard k's first pod gets its contiguous slot range, every node meets every other, the rest
   * replicate. Each step checks what is already done, so a rerun finishes a partial run.
   *
   * @param command names the steps and log lines ("init", "heal: re-form")
   */
  public static void form(ClusterOps ops, String command) {
    ShardLayout layout = ops.layout();
    ops.waitForPods(layout.podCount());
    Snapshot snapshot = ops.snapshotOfLayout(command + ": read nodes");
    List<PodNode> nodes =
        snapshot.members().stream().filter(m -> !layout.isDeparting(m.ordinal())).toList();

    for (PodNode m : nodes) {
      if (m.view().isAlone() && m.view().myself().configEpoch() == 0) {
        // Distinct epochs up front spare the cluster its epoch-collision resolution.
        try {
          m.client().step(command + ": set config epoch").setConfigEpoch(m.ordinal() + 1L);
        } catch (StepFailedException e) {
          LOG.debug("{}", e.getMessage());
        }
      }
    }
    ops.repairOpenSlots(command + ": close open slots");
    assignMissingSlots(command, snapshot, layout);
    ops.join(command + ": meet all nodes", nodes);

    Snapshot joined = ops.snapshotOfLayout(command + ": read joined nodes");
    List<PodNode> masters = ops.designatedMasters(joined);
    int replicas = ops.attachReplicas(command + ": attach replicas", joined, masters);
    LOG.info("action=replicas-attached masters={} replicas={}", masters.size(), replicas);
    ops.waitHealthy(
        command + ": wait for cluster_state:ok",
        joined.members().stream()
            .map(PodNode::pod)
            .filter(p -> !layout.isDeparting(p.ordinal()))
            .toList());
    LOG.info(
        "action=cluster-ok masters={} replicas_per_master={}",
        layout.masters(),
        layout.replicasPerMaster());
  }

  /** Gives each shard leader the part of its slot range no node claims yet. */
  private static void assignMissingSlots(String command, Snapshot snapshot, ShardLayout layout) {
    BitSet claimed = snapshot.claimedSlots();
    snapshot.joined().forEach(m -> claimed.or(m.view().assignedSlots()));
    for (int shard = 0; shard < layout.masters(); shard++) {
      int ordinal = layout.leaderOrdinal(shard);
      PodNode leader =
          snapshot
              .byOrdinal(ordinal)
              .orElseThrow(
                  () ->
                      new StepFailedException(
                          command + ": assign slots",
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
            command + ": assign slots of shard " + shard,
            leader.describe(),
            "slots "
                + SlotMigrator.ranges(missing)
                + " are unassigned but the shard's first pod is a replica");
      }
      LOG.info(
          "action=add-slots pod={} from=unassigned to={} reason=\"the first pod of shard {}\"",
          leader.pod().name(),
          SlotMigrator.ranges(missing),
          shard);
      for (int s = missing.nextSetBit(0); s >= 0; ) {
        int end = missing.nextClearBit(s) - 1;
        leader.client().step(command + ": add slots " + s + "-" + end).addSlots(s, end);
        s = missing.nextSetBit(end + 1);
      }
    }
  }
}
