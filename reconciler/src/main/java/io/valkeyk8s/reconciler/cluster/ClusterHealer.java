package io.valkeyk8s.reconciler.cluster;

import io.valkeyk8s.reconciler.core.StepFailedException;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pass of the long-running healer: re-meets nodes whose pod IP changed, forgets nodes no pod
 * runs any more, and keeps the role and shard labels of every pod current. Reads the whole state
 * each time (level-triggered); never moves slots, which is the scale commands' job.
 */
public final class ClusterHealer {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterHealer.class);

  private final PodDirectory directory;
  private final NodeClients clients;
  private final RoleLabeler labeler;
  private final ShardLayout layout;

  /** What one pass saw and did, for metrics and readiness. */
  public record PassResult(
      int pods,
      int reachable,
      int meets,
      int forgets,
      int adoptions,
      int labelChanges,
      boolean clusterOk) {}

  public ClusterHealer(
      PodDirectory directory, NodeClients clients, RoleLabeler labeler, ShardLayout layout) {
    this.directory = directory;
    this.clients = clients;
    this.labeler = labeler;
    this.layout = layout;
  }

  public PassResult pass() {
    Snapshot snapshot = Snapshot.take("heal: read nodes", directory.pods(), clients);
    snapshot.unreachable().forEach((pod, e) -> LOG.debug("heal: {}", e.getMessage()));
    List<Member> joined = snapshot.joined();
    int meets = 0;
    try {
      meets = ClusterOps.meetStale(joined);
    } catch (StepFailedException e) {
      LOG.warn("heal: {}", e.getMessage());
    }
    int forgets = snapshot.unreachable().isEmpty() ? forgetVanished(joined) : 0;
    int adoptions = adopt(snapshot);
    int labels = label(snapshot);
    boolean ok =
        !joined.isEmpty()
            && joined.stream()
                .allMatch(
                    m -> {
                      try {
                        return "ok"
                            .equals(
                                m.client()
                                    .step("heal: read CLUSTER INFO")
                                    .clusterInfo()
                                    .get("cluster_state"));
                      } catch (StepFailedException e) {
                        return false;
                      }
                    });
    return new PassResult(
        snapshot.pods().size(), snapshot.members().size(), meets, forgets, adoptions, labels, ok);
  }

  /**
   * A pod that lost its data (emptyDir, new volume) comes back as a fresh node: when its shard
   * still has a primary serving slots, it is met (this pass) and made that primary's replica (a
   * later pass). Pods of a shard without a serving primary are left to the scale-up hook.
   */
  private int adopt(Snapshot snapshot) {
    Optional<Member> reference = snapshot.reference();
    if (reference.isEmpty()
        || reference.get().view().assignedSlots().cardinality() != ShardLayout.SLOTS) {
      return 0; // not formed yet: init's job
    }
    int adopted = 0;
    for (Member node : snapshot.members()) {
      if (layout.isDeparting(node.ordinal()) || !node.isMaster() || node.slotCount() > 0) {
        continue;
      }
      int shard = layout.shardOf(node.ordinal());
      Optional<Member> primary =
          snapshot.mastersWithSlots().stream()
              .filter(m -> m != node && layout.shardOf(m.ordinal()) == shard)
              .findFirst();
      if (primary.isEmpty()) {
        continue;
      }
      try {
        if (node.view().isAlone()) {
          LOG.info(
              "heal: {} is a fresh node in shard {}: meeting it from {}",
              node.describe(),
              shard,
              reference.get().describe());
          reference
              .get()
              .client()
              .step("heal: meet fresh node " + node.describe())
              .meet(node.pod().address());
        } else if (node.view().knows(primary.get().id())) {
          LOG.info(
              "heal: {} (empty master in shard {}) becomes a replica of {}",
              node.describe(),
              shard,
              primary.get().describe());
          node.client()
              .step("heal: replicate " + primary.get().describe())
              .replicate(primary.get().id());
        }
        adopted++;
      } catch (StepFailedException e) {
        LOG.warn("heal: {}", e.getMessage());
      }
    }
    return adopted;
  }

  /**
   * Forgets nodes that every reachable node can list but no pod runs: failed, without slots. Only
   * when every pod answered, so that a pod that is just restarting is never forgotten.
   */
  private int forgetVanished(List<Member> joined) {
    Set<String> live = new HashSet<>();
    joined.forEach(m -> live.add(m.id()));
    int forgets = 0;
    for (Member m : joined) {
      for (ClusterNode n : m.view().nodes()) {
        boolean vanished =
            !live.contains(n.id())
                && (n.isFailed() || n.flags().contains("noaddr"))
                && n.slotCount() == 0
                && !n.id().equals(m.view().myself().masterId());
        if (vanished) {
          LOG.info(
              "heal: {} forgets node {} (was {}, no pod runs it, flags {})",
              m.describe(),
              n.id(),
              n.address(),
              n.flags());
          try {
            m.client().step("heal: forget vanished node " + n.id()).forget(n.id());
            forgets++;
          } catch (StepFailedException e) {
            LOG.warn("heal: {}", e.getMessage());
          }
        }
      }
    }
    return forgets;
  }

  /** Role from the node itself; shard from the pod ordinal of the primary it belongs to. */
  private int label(Snapshot snapshot) {
    int changes = 0;
    for (ClusterPod pod : snapshot.pods()) {
      Optional<Member> member = snapshot.members().stream().filter(m -> m.pod() == pod).findFirst();
      String role;
      String shard;
      String why;
      if (member.isEmpty() || member.get().view().isAlone()) {
        role = null;
        shard = null;
        why = member.isEmpty() ? "node unreachable" : "node not part of the cluster";
      } else {
        ClusterNode self = member.get().view().myself();
        if (self.isMaster()) {
          role = RoleLabeler.PRIMARY;
          shard = String.valueOf(layout.shardOf(pod.ordinal()));
          why = "node is a master serving " + self.slotCount() + " slots";
        } else {
          role = RoleLabeler.REPLICA;
          Optional<Member> master = snapshot.byId(self.masterId());
          shard = String.valueOf(layout.shardOf(master.map(Member::ordinal).orElse(pod.ordinal())));
          why = "node replicates " + master.map(Member::describe).orElse(self.masterId());
        }
      }
      if (!Objects.equals(role, pod.roleLabel()) || !Objects.equals(shard, pod.shardLabel())) {
        LOG.info(
            "label: {} {}={} -> {}, {}={} -> {} ({})",
            pod.name(),
            RoleLabeler.ROLE_LABEL,
            pod.roleLabel(),
            role,
            RoleLabeler.SHARD_LABEL,
            pod.shardLabel(),
            shard,
            why);
        try {
          labeler.label(pod, role, shard, why);
          changes++;
        } catch (RuntimeException e) {
          LOG.warn("label: {} failed: {}", pod.name(), e.getMessage());
        }
      }
    }
    return changes;
  }
}
