package io.valkeyk8s.reconciler.cluster.heal;

import io.valkeyk8s.reconciler.cluster.topology.ClusterNode;
import io.valkeyk8s.reconciler.cluster.topology.ClusterOps;
import io.valkeyk8s.reconciler.cluster.topology.ClusterPod;
import io.valkeyk8s.reconciler.cluster.topology.ClusterView;
import io.valkeyk8s.reconciler.cluster.topology.Formation;
import io.valkeyk8s.reconciler.cluster.topology.MigrationHook;
import io.valkeyk8s.reconciler.cluster.topology.PodNode;
import io.valkeyk8s.reconciler.cluster.topology.ShardLayout;
import io.valkeyk8s.reconciler.cluster.topology.SlotMigrator;
import io.valkeyk8s.reconciler.cluster.topology.Snapshot;
import io.valkeyk8s.reconciler.core.ReconcileLoop;
import io.valkeyk8s.reconciler.core.StepFailedException;
import io.valkeyk8s.reconciler.core.WaitLog;
import io.valkeyk8s.reconciler.kube.LabelWriter;
import io.valkeyk8s.reconciler.kube.Leadership;
import io.valkeyk8s.reconciler.kube.PodIndex;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import java.time.Duration;
import java.util.Comparator;
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
  private final Duration reformAfter;
  private final ClusterOps ops;
  private volatile boolean completed;
  private boolean sawFormed;
  private long everyPodLostSince = -1;

  HealPass(
      PodIndex pods,
      int port,
      NodeClients clients,
      LabelWriter labels,
      ShardLayout layout,
      Leadership leadership,
      HealMetrics metrics,
      Duration reformAfter) {
    this.pods = pods;
    this.reformAfter = reformAfter;
    this.ops =
        new ClusterOps(
            () -> ClusterPod.of(pods, port),
            clients,
            layout,
            new SlotMigrator(MigrationHook.NONE),
            Duration.ofMinutes(1));
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
        .reference()
        .filter(r -> r.view().assignedSlots().cardinality() == ShardLayout.SLOTS)
        .ifPresent(r -> sawFormed = true);
    if (reformIfEveryPodLost(snapshot)) {
      return;
    }
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
      metrics.forgets.increment(forgetVanished(snapshot));
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
   * Every pod lost its data at once (no persistence and every pod restarted together, or every
   * volume gone): each pod of the layout answers as a lone, empty node, and nothing else would ever
   * form the cluster again (init ran once, at install). Once this process has seen the cluster
   * formed, and this state has lasted {@code reformAfter} (an install forms its cluster long
   * before), the healer forms a new, empty cluster as init does. The data is gone either way
   * (NOTES.txt and the chart README say so); this only brings the service back. Returns true while
   * the pass should do nothing else.
   */
  private boolean reformIfEveryPodLost(Snapshot snapshot) {
    List<PodNode> staying =
        snapshot.members().stream().filter(m -> !layout.isDeparting(m.ordinal())).toList();
    boolean everyPodLost =
        snapshot.unreachable().isEmpty()
            && staying.size() == layout.podCount()
            && staying.stream().allMatch(m -> m.view().isAlone());
    if (!everyPodLost) {
      everyPodLostSince = -1;
      return false;
    }
    if (!sawFormed) {
      waits.waiting(
          "action=wait reason=\"every pod is a lone node: the cluster is init's to form\"");
      return false;
    }
    long now = System.nanoTime();
    if (everyPodLostSince < 0) {
      everyPodLostSince = now;
    }
    if (now - everyPodLostSince < reformAfter.toNanos()) {
      waits.waiting(
          "action=wait reason=\"every pod lost its data: the cluster is formed anew after "
              + reformAfter.toSeconds()
              + " s of this\"");
      return true;
    }
    for (PodNode m : staying) {
      long keys = m.client().step("heal: count keys").call(c -> c.dbsize());
      if (keys > 0) {
        waits.waiting(
            "action=wait pod="
                + m.pod().name()
                + " reason=\"a lone node holds "
                + keys
                + " keys: not forming a cluster over them\"");
        return true;
      }
    }
    LOG.warn(
        "action=reform pods={} reason=\"every pod came back without data (a cluster seen formed"
            + " before): forming a new, empty cluster\"",
        staying.size());
    Formation.form(ops, "heal: re-form");
    metrics.reforms.increment();
    everyPodLostSince = -1;
    return true;
  }

  /**
   * A pod that lost its data (emptyDir, new volume) comes back as a new node while the cluster
   * still lists the pod's host name under its earlier node id. It rejoins its shard as a replica:
   * met (this pass), then {@code CLUSTER REPLICATE} of the primary its earlier node replicated, or,
   * when the earlier node was itself the primary (its replica took over), of the primary with the
   * fewest replicas (a later pass). The earlier id is forgotten only once the new node is in sync
   * ({@link #forgetVanished}). Fresh pods without an earlier id are the hook Jobs' to place.
   */
  private int adopt(Snapshot snapshot) {
    Optional<PodNode> reference = snapshot.reference();
    if (reference.isEmpty()
        || reference.get().view().assignedSlots().cardinality() != ShardLayout.SLOTS) {
      return 0; // not formed yet: init's job
    }
    ClusterView cluster = reference.get().view();
    Map<String, ClusterNode> named = namedNodes(snapshot);
    int adopted = 0;
    for (PodNode node : snapshot.members()) {
      if (layout.isDeparting(node.ordinal()) || !node.isMaster() || node.slotCount() > 0) {
        continue;
      }
      List<ClusterNode> earlier =
          named.values().stream()
              .filter(n -> !n.id().equals(node.id()) && n.announces(node.pod().name()))
              .map(n -> cluster.node(n.id()).orElse(n))
              .toList();
      if (earlier.isEmpty()) {
        continue;
      }
      try {
        if (node.view().isAlone()) {
          LOG.info(
              "action=meet pod={} from={} to={} reason=\"the pod came back without its data (it was"
                  + " node {})\"",
              node.pod().name(),
              reference.get().pod().name(),
              node.pod().address(),
              earlier.get(0).id());
          reference
              .get()
              .client()
              .step("heal: meet the new node of " + node.describe())
              .meet(node.pod().address());
          adopted++;
          continue;
        }
        if (earlier.stream().anyMatch(n -> n.slotCount() > 0)
            || cluster.nodes().stream().anyMatch(n -> n.slotCount() > 0 && n.isUnhealthy())) {
          // Its shard's replica has not taken the slots over yet (the failure detection takes
          // cluster-node-timeout): only then is that replica the primary with the fewest replicas.
          waits.waiting(
              "action=wait pod="
                  + node.pod().name()
                  + " reason=\"a failed primary still owns slots: waiting for its replica to take"
                  + " over\"");
          continue;
        }
        Optional<PodNode> primary = primaryFor(snapshot, cluster, earlier);
        if (primary.isEmpty() || !node.view().knows(primary.get().id())) {
          waits.waiting(
              "action=wait pod="
                  + node.pod().name()
                  + " reason=\"its shard's primary is not known to the new node yet\"");
          continue;
        }
        LOG.info(
            "action=replicate pod={} from=master to=replica-of-{} reason=\"the pod came back"
                + " without its data; its earlier node {} {}\"",
            node.pod().name(),
            primary.get().pod().name(),
            earlier.get(0).id(),
            earlier.get(0).masterId() == null
                ? "was a primary"
                : "replicated " + earlier.get(0).masterId());
        node.client()
            .step("heal: replicate " + primary.get().describe())
            .replicate(primary.get().id());
        adopted++;
      } catch (StepFailedException e) {
        waits.waiting(
            "action=wait pod=" + node.pod().name() + " reason=\"" + e.getMessage() + "\"");
      }
    }
    return adopted;
  }

  /**
   * The primary the pod's earlier node replicated, if it still serves slots; else the serving
   * primary with the fewest replicas (the shard whose primary was this pod lost its replica when
   * the replica took over).
   */
  private static Optional<PodNode> primaryFor(
      Snapshot snapshot, ClusterView cluster, List<ClusterNode> earlier) {
    for (ClusterNode e : earlier) {
      if (e.masterId() != null) {
        Optional<PodNode> own =
            snapshot.byId(e.masterId()).filter(m -> m.isMaster() && m.slotCount() > 0);
        if (own.isPresent()) {
          return own;
        }
      }
    }
    return snapshot.mastersWithSlots().stream()
        .min(
            Comparator.comparingLong(
                    (PodNode m) ->
                        cluster.replicasOf(m.id()).stream().filter(r -> !r.isFailed()).count())
                .thenComparingInt(PodNode::ordinal));
  }

  /**
   * Forgets nodes that every reachable node can list but no pod runs: failed, without slots. Only
   * when every pod answered, so that a pod that is just restarting is never forgotten; and the
   * earlier id of a pod that came back without its data only once its new node is a replica in
   * sync, so that until then readiness keeps the pod not ready (a rolling update waits for it).
   */
  private int forgetVanished(Snapshot snapshot) {
    List<PodNode> joined = snapshot.joined();
    Set<String> live = new HashSet<>();
    joined.forEach(m -> live.add(m.id()));
    // FORGET on one node spreads (Valkey gossips forgotten nodes): never before the new node syncs.
    Map<String, ClusterNode> withHostname = namedNodes(snapshot);
    int forgets = 0;
    for (PodNode m : joined) {
      for (ClusterNode n : m.view().nodes()) {
        boolean vanished =
            !live.contains(n.id())
                && (n.isFailed() || n.flags().contains("noaddr"))
                && n.slotCount() == 0
                && !n.id().equals(m.view().myself().masterId());
        if (!vanished) {
          continue;
        }
        ClusterNode named = withHostname.getOrDefault(n.id(), n);
        Optional<PodNode> successor =
            snapshot.members().stream().filter(p -> named.announces(p.pod().name())).findFirst();
        if (successor.isPresent() && !inSync(successor.get())) {
          waits.waiting(
              "action=wait pod="
                  + successor.get().pod().name()
                  + " reason=\"its earlier node "
                  + n.id()
                  + " is forgotten once the new node is a replica in sync\"");
          continue;
        }
        LOG.info(
            "action=forget pod={} node={} from={} to=forgotten reason=\"no pod runs it, flags {}{}\"",
            m.pod().name(),
            n.id(),
            n.address(),
            n.flags(),
            successor.map(p -> "; " + p.pod().name() + " runs a new node in sync").orElse(""));
        try {
          m.client().step("heal: forget vanished node " + n.id()).forget(n.id());
          forgets++;
        } catch (StepFailedException e) {
          waits.waiting("action=wait pod=" + m.pod().name() + " reason=\"" + e.getMessage() + "\"");
        }
      }
    }
    return forgets;
  }

  /**
   * Every node some member lists with a host name, by id. A node learns another's host name from
   * that node itself, not from gossip: the new node of a pod lists the pod's earlier id without it.
   */
  private static Map<String, ClusterNode> namedNodes(Snapshot snapshot) {
    Map<String, ClusterNode> named = new HashMap<>();
    snapshot
        .joined()
        .forEach(
            m ->
                m.view().nodes().stream()
                    .filter(n -> n.hostname() != null)
                    .forEach(n -> named.putIfAbsent(n.id(), n)));
    return named;
  }

  /** A replica whose link is up and whose full sync is over. */
  private static boolean inSync(PodNode node) {
    if (!node.view().myself().isReplica()) {
      return false;
    }
    try {
      Map<String, String> repl = node.client().step("heal: read replication").info("replication");
      return "up".equals(repl.get("master_link_status"))
          && "0".equals(repl.get("master_sync_in_progress"));
    } catch (StepFailedException e) {
      return false;
    }
  }

  /**
   * Role from the node itself; shard from the slots of its primary: shard k is the primary with the
   * k-th lowest first slot, which stays the same across failovers and replica changes.
   */
  private int label(Snapshot snapshot) {
    Map<String, Integer> shardOf = new HashMap<>();
    List<PodNode> primaries =
        snapshot.mastersWithSlots().stream()
            .sorted(Comparator.comparingInt(m -> m.view().myself().slots().nextSetBit(0)))
            .toList();
    for (int i = 0; i < primaries.size(); i++) {
      shardOf.put(primaries.get(i).id(), i);
    }
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
        if (self.isMaster() && self.slotCount() > 0) {
          role = PRIMARY;
          shard = String.valueOf(shardOf.get(self.id()));
          why = "node is a master serving " + self.slotCount() + " slots";
        } else if (self.isMaster()) {
          role = null;
          shard = null;
          why = "node is a master without slots";
        } else {
          role = REPLICA;
          Optional<PodNode> master = snapshot.byId(self.masterId());
          Integer k = shardOf.get(self.masterId());
          shard = k == null ? null : String.valueOf(k);
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
