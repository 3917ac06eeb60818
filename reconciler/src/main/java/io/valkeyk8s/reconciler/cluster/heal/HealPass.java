package io.valkeyk8s.reconciler.cluster.heal;

import io.valkeyk8s.reconciler.cluster.topology.ClusterNode;
import io.valkeyk8s.reconciler.cluster.topology.ClusterOps;
import io.valkeyk8s.reconciler.cluster.topology.ClusterPod;
import io.valkeyk8s.reconciler.cluster.topology.PodNode;
import io.valkeyk8s.reconciler.cluster.topology.ShardLayout;
import io.valkeyk8s.reconciler.cluster.topology.Snapshot;
import io.valkeyk8s.reconciler.core.ReconcileLoop;
import io.valkeyk8s.reconciler.core.StepFailedException;
import io.valkeyk8s.reconciler.core.WaitLog;
import io.valkeyk8s.reconciler.kube.LabelWriter;
import io.valkeyk8s.reconciler.kube.Leadership;
import io.valkeyk8s.reconciler.kube.PodIndex;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One pass of the long-running healer: re-meets nodes whose pod IP changed, forgets nodes no pod
 * runs any more, adopts pods that came back empty, and keeps the role and shard labels of every pod
 * current. Reads the whole state each time (level-triggered); never moves slots, which is the scale
 * commands' job. Only the leader acts, and only on a pod cache that watches the API server.
 */
public final class HealPass implements ReconcileLoop.Pass<String> {
  public static final String ROLE_LABEL = "valkey-role";
  public static final String SHARD_LABEL = "valkey-shard";
  public static final String PRIMARY = "primary";
  public static final String REPLICA = "replica";

  private static final Logger LOG = LoggerFactory.getLogger(HealPass.class);
  private static final Duration LATER = Duration.ofSeconds(1);

  private final PodIndex pods;
  private final int port;
  private final NodeClients clients;
  private final LabelWriter labels;
  private final ShardLayout layout;
  private final Leadership leadership;
  private final HealMetrics metrics;
  private final WaitLog waits = new WaitLog(LOG);
  private volatile boolean completed;

  HealPass(
      PodIndex pods,
      int port,
      NodeClients clients,
      LabelWriter labels,
      ShardLayout layout,
      Leadership leadership,
      HealMetrics metrics) {
    this.pods = pods;
    this.port = port;
    this.clients = clients;
    this.labels = labels;
    this.layout = layout;
    this.leadership = leadership;
    this.metrics = metrics;
  }

  /** Readiness: the last pass ran to its end (a standby's passes always do). */
  boolean completed() {
    return completed;
  }

  @Override
  public Optional<Duration> reconcile(String key) {
    long start = System.nanoTime();
    try {
      if (!leadership.isLeader()) {
        completed = true;
        return Optional.empty();
      }
      if (!pods.hasSynced() || !pods.isWatching()) {
        waits.waiting("action=wait reason=\"pod cache not watching the API server\"");
        return Optional.of(LATER);
      }
      heal();
      completed = true;
      return Optional.empty();
    } catch (RuntimeException e) {
      completed = false;
      metrics.failedPasses.increment();
      throw e;
    } finally {
      waits.passEnded();
      metrics.pass.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    }
  }

  private void heal() {
    Snapshot snapshot = Snapshot.take("heal: read nodes", ClusterPod.of(pods, port), clients);
    snapshot
        .unreachable()
        .forEach(
            (pod, e) ->
                waits.waiting(
                    "action=wait pod=" + pod.name() + " reason=\"" + e.getMessage() + "\""));
    List<PodNode> joined = snapshot.joined();
    try {
      metrics.meets.increment(ClusterOps.meetStale(joined));
    } catch (StepFailedException e) {
      waits.waiting("action=wait reason=\"" + e.getMessage() + "\"");
    }
    if (snapshot.unreachable().isEmpty()) {
      metrics.forgets.increment(forgetVanished(joined));
    }
    metrics.adoptions.increment(adopt(snapshot));
    metrics.labelChanges.increment(label(snapshot));
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
    metrics.clusterOk.set(ok ? 1 : 0);
    metrics.reachable.set(snapshot.members().size());
  }

  /**
   * A pod that lost its data (emptyDir, new volume) comes back as a fresh node: when its shard
   * still has a primary serving slots, it is met (this pass) and made that primary's replica (a
   * later pass). Pods of a shard without a serving primary are left to the scale-up hook.
   */
  private int adopt(Snapshot snapshot) {
    Optional<PodNode> reference = snapshot.reference();
    if (reference.isEmpty()
        || reference.get().view().assignedSlots().cardinality() != ShardLayout.SLOTS) {
      return 0; // not formed yet: init's job
    }
    int adopted = 0;
    for (PodNode node : snapshot.members()) {
      if (layout.isDeparting(node.ordinal()) || !node.isMaster() || node.slotCount() > 0) {
        continue;
      }
      int shard = layout.shardOf(node.ordinal());
      Optional<PodNode> primary =
          snapshot.mastersWithSlots().stream()
              .filter(m -> m != node && layout.shardOf(m.ordinal()) == shard)
              .findFirst();
      if (primary.isEmpty()) {
        continue;
      }
      try {
        if (node.view().isAlone()) {
          LOG.info(
              "action=meet pod={} from={} to={} reason=\"a fresh node in shard {}\"",
              node.pod().name(),
              reference.get().pod().name(),
              node.pod().address(),
              shard);
          reference
              .get()
              .client()
              .step("heal: meet fresh node " + node.describe())
              .meet(node.pod().address());
        } else if (node.view().knows(primary.get().id())) {
          LOG.info(
              "action=replicate pod={} from=master to=replica-of-{} reason=\"an empty master in"
                  + " shard {}\"",
              node.pod().name(),
              primary.get().pod().name(),
              shard);
          node.client()
              .step("heal: replicate " + primary.get().describe())
              .replicate(primary.get().id());
        }
        adopted++;
      } catch (StepFailedException e) {
        waits.waiting(
            "action=wait pod=" + node.pod().name() + " reason=\"" + e.getMessage() + "\"");
      }
    }
    return adopted;
  }

  /**
   * Forgets nodes that every reachable node can list but no pod runs: failed, without slots. Only
   * when every pod answered, so that a pod that is just restarting is never forgotten.
   */
  private int forgetVanished(List<PodNode> joined) {
    Set<String> live = new HashSet<>();
    joined.forEach(m -> live.add(m.id()));
    int forgets = 0;
    for (PodNode m : joined) {
      for (ClusterNode n : m.view().nodes()) {
        boolean vanished =
            !live.contains(n.id())
                && (n.isFailed() || n.flags().contains("noaddr"))
                && n.slotCount() == 0
                && !n.id().equals(m.view().myself().masterId());
        if (vanished) {
          LOG.info(
              "action=forget pod={} node={} from={} to=forgotten reason=\"no pod runs it, flags {}\"",
              m.pod().name(),
              n.id(),
              n.address(),
              n.flags());
          try {
            m.client().step("heal: forget vanished node " + n.id()).forget(n.id());
            forgets++;
          } catch (StepFailedException e) {
            waits.waiting(
                "action=wait pod=" + m.pod().name() + " reason=\"" + e.getMessage() + "\"");
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
      Optional<PodNode> member =
          snapshot.members().stream().filter(m -> m.pod() == pod).findFirst();
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
          role = PRIMARY;
          shard = String.valueOf(layout.shardOf(pod.ordinal()));
          why = "node is a master serving " + self.slotCount() + " slots";
        } else {
          role = REPLICA;
          Optional<PodNode> master = snapshot.byId(self.masterId());
          shard =
              String.valueOf(layout.shardOf(master.map(PodNode::ordinal).orElse(pod.ordinal())));
          why = "node replicates " + master.map(PodNode::describe).orElse(self.masterId());
        }
      }
      String before = describe(pod.label(ROLE_LABEL), pod.label(SHARD_LABEL));
      String after = describe(role, shard);
      if (before.equals(after)) {
        continue;
      }
      Map<String, String> wanted = new HashMap<>();
      wanted.put(ROLE_LABEL, role);
      wanted.put(SHARD_LABEL, shard);
      try {
        if (labels.write(
            pod.pod(),
            wanted,
            role == null ? "ClusterRoleUnknown" : "ClusterRoleChanged",
            before + " -> " + after + ": " + why)) {
          LOG.info(
              "action=label pod={} from={} to={} reason=\"{}\"", pod.name(), before, after, why);
          changes++;
        }
      } catch (RuntimeException e) {
        waits.waiting(
            "action=wait pod=" + pod.name() + " reason=\"label: " + e.getMessage() + "\"");
      }
    }
    return changes;
  }

  private static String describe(String role, String shard) {
    return ROLE_LABEL
        + "="
        + Objects.toString(role, "absent")
        + ","
        + SHARD_LABEL
        + "="
        + Objects.toString(shard, "absent");
  }
}
