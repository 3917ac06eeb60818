package io.valkeyk8s.reconciler.cluster.command;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.valkeyk8s.reconciler.cluster.topology.ClusterOps;
import io.valkeyk8s.reconciler.cluster.topology.PodNode;
import io.valkeyk8s.reconciler.cluster.topology.ShardLayout;
import io.valkeyk8s.reconciler.cluster.topology.SlotMigrator;
import io.valkeyk8s.reconciler.cluster.topology.Snapshot;
import io.valkeyk8s.reconciler.core.StepFailedException;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
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
  private static final Logger LOG = LoggerFactory.getLogger(InitCommand.class);

  public InitCommand(Map<String, String> env, Supplier<KubernetesClient> kube) {
    super(env, kube);
  }

  @Override
  String name() {
    return "init";
  }

  @Override
  public void execute(ClusterOps ops) {
    ShardLayout layout = ops.layout();
    ops.waitForPods(layout.podCount());
    Snapshot snapshot = ops.snapshotOfLayout("init: read nodes");
    List<PodNode> nodes =
        snapshot.members().stream().filter(m -> !layout.isDeparting(m.ordinal())).toList();

    for (PodNode m : nodes) {
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
    List<PodNode> masters = ops.designatedMasters(joined);
    int replicas = ops.attachReplicas("init: attach replicas", joined, masters);
    LOG.info("action=replicas-attached masters={} replicas={}", masters.size(), replicas);
    ops.waitHealthy(
        "init: wait for cluster_state:ok",
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
  private void assignMissingSlots(Snapshot snapshot, ShardLayout layout) {
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
          "action=add-slots pod={} from=unassigned to={} reason=\"the first pod of shard {}\"",
          leader.pod().name(),
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
