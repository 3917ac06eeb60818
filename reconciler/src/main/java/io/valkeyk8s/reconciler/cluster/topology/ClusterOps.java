package io.valkeyk8s.reconciler.cluster.topology;

import io.valkeyk8s.reconciler.core.Config;
import io.valkeyk8s.reconciler.core.StepFailedException;
import io.valkeyk8s.reconciler.valkey.Credentials;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import io.valkeyk8s.reconciler.valkey.PodNames;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The building blocks the commands share: read the cluster, join nodes, attach replicas, move
 * slots, wait.
 */
public final class ClusterOps {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterOps.class);

  private final Supplier<List<ClusterPod>> pods;
  private final NodeClients clients;
  private final ShardLayout layout;
  private final SlotMigrator migrator;
  private final AtomicSlotMigration atomic;
  private final Duration timeout;
  static final Duration HEALTH_GRACE = Duration.ofSeconds(20);

  public ClusterOps(
      Supplier<List<ClusterPod>> pods,
      NodeClients clients,
      ShardLayout layout,
      SlotMigrator migrator,
      Duration timeout) {
    this.pods = pods;
    this.clients = clients;
    this.layout = layout;
    this.migrator = migrator;
    this.atomic =
        new AtomicSlotMigration(migrator == null ? MigrationHook.NONE : migrator.hook(), timeout);
    this.timeout = timeout;
  }

  /**
   * Connections to the nodes as cluster mode opens them: 30 s timeouts (SETSLOT and MIGRATE wait
   * for replicas), reconnects in the background (a node drops its clients when it turns replica);
   * with TLS each pod is reached under its stable name ({@link PodNames}).
   */
  public static NodeClients nodeClients(Config config, int ioThreads, PodNames names) {
    return NodeClients.withOwnThreads(
        ioThreads, Credentials.admin(config), config.tls(), names, Duration.ofSeconds(30), true);
  }

  public ShardLayout layout() {
    return layout;
  }

  public SlotMigrator migrator() {
    return migrator;
  }

  public Snapshot snapshot(String step) {
    return Snapshot.take(step, pods.get(), clients);
  }

  /** Waits until pods 0..count-1 exist, have an IP and answer PING. */
  public void waitForPods(int count) {
    String step = "wait for pods 0.." + (count - 1);
    Wait.until(
        step,
        timeout,
        () -> {
          Map<Integer, ClusterPod> byOrdinal = new HashMap<>();
          pods.get().forEach(p -> byOrdinal.put(p.ordinal(), p));
          for (int i = 0; i < count; i++) {
            ClusterPod pod = byOrdinal.get(i);
            if (pod == null) {
              return "no pod with ordinal " + i;
            }
            pod.node(clients, step).ping();
          }
          return null;
        });
  }

  /** Only the pods the layout keeps, all reachable. */
  public Snapshot snapshotOfLayout(String step) {
    Snapshot snapshot = snapshot(step);
    for (var e : snapshot.unreachable().entrySet()) {
      if (!layout.isDeparting(e.getKey().ordinal())) {
        throw e.getValue();
      }
    }
    return snapshot;
  }

  /**
   * Refuses to change a cluster that is failing: every joined node must report cluster_state:ok
   * with all slots assigned.
   */
  public void requireHealthy(String command, Snapshot snapshot) {
    // A node that just joined or restarted says fail for a couple of seconds: give it a short
    // grace.
    String step = command + ": check the cluster is healthy before changing it";
    String[] last = {null};
    try {
      Wait.until(step, HEALTH_GRACE, () -> last[0] = healthProblem(snapshot.joined()));
    } catch (StepFailedException e) {
      throw new StepFailedException(
          step,
          null,
          "refusing to scale a failing cluster: " + (last[0] == null ? e.getMessage() : last[0]));
    }
  }

  /** Null when every member says ok, serves all slots, and all agree on slot owners. */
  public String healthProblem(List<PodNode> members) {
    if (members.isEmpty()) {
      return "no node is part of a cluster";
    }
    Map<Integer, String> owners = null;
    for (PodNode m : members) {
      Map<String, String> info = m.client().step("read CLUSTER INFO").clusterInfo();
      if (!"ok".equals(info.get("cluster_state"))) {
        return m.describe() + " reports cluster_state:" + info.get("cluster_state");
      }
      if (!String.valueOf(ShardLayout.SLOTS).equals(info.get("cluster_slots_assigned"))) {
        return m.describe()
            + " reports cluster_slots_assigned:"
            + info.get("cluster_slots_assigned");
      }
      Map<Integer, String> mine =
          slotOwners(ClusterView.read(m.client().step("read CLUSTER NODES")));
      if (owners == null) {
        owners = mine;
      } else if (!owners.equals(mine)) {
        return m.describe() + " disagrees with " + members.get(0).describe() + " on slot owners";
      }
    }
    return null;
  }

  private static Map<Integer, String> slotOwners(ClusterView view) {
    Map<Integer, String> owners = new HashMap<>();
    for (ClusterNode n : view.nodes()) {
      for (int s = n.slots().nextSetBit(0); s >= 0; s = n.slots().nextSetBit(s + 1)) {
        owners.put(s, n.id());
      }
    }
    return owners;
  }

  public void waitHealthy(String step, List<ClusterPod> pods) {
    Wait.until(
        step,
        timeout,
        () -> healthProblem(Snapshot.take(step, pods, clients).requireAllReachable().members()));
  }

  /**
   * Makes every given node know every other at its current address: CLUSTER MEET where a node
   * misses another or has an old address (pods get new IPs when they restart). Returns the meets
   * sent.
   */
  public static int meetStale(List<PodNode> members) {
    int meets = 0;
    for (PodNode a : members) {
      if (a.view().isAlone() && members.stream().anyMatch(m -> !m.view().isAlone())) {
        continue; // a fresh node is met by the cluster, not the other way round
      }
      for (PodNode b : members) {
        if (a == b) {
          continue;
        }
        Optional<ClusterNode> seen = a.view().node(b.id());
        boolean stale =
            seen.isEmpty()
                || !Objects.equals(seen.get().address(), b.pod().address())
                || seen.get().flags().contains("noaddr")
                || seen.get().flags().contains("handshake");
        if (stale) {
          LOG.info(
              "action=meet pod={} node={} from={} to={} reason=\"{}\"",
              a.pod().name(),
              b.pod().name(),
              seen.map(n -> String.valueOf(n.address())).orElse("unknown"),
              b.pod().address(),
              seen.isEmpty() ? "it does not know the node" : "the node's address changed");
          a.client()
              .step("meet " + b.describe() + " from " + a.pod().name())
              .meet(b.pod().address());
          meets++;
        }
      }
    }
    return meets;
  }

  /** Null when every node knows every other, connected, at its current address. */
  public String mutualKnowledgeProblem(List<PodNode> members) {
    for (PodNode a : members) {
      ClusterView view = ClusterView.read(a.client().step("read CLUSTER NODES"));
      for (PodNode b : members) {
        if (a == b) {
          continue;
        }
        Optional<ClusterNode> seen = view.node(b.id());
        if (seen.isEmpty()) {
          return a.describe() + " does not know " + b.describe();
        }
        if (!Objects.equals(seen.get().address(), b.pod().address())) {
          return a.describe() + " has " + b.pod().name() + " at " + seen.get().address();
        }
        if (seen.get().isUnhealthy()) {
          return a.describe() + " sees " + b.pod().name() + " as " + seen.get().flags();
        }
      }
    }
    return null;
  }

  /**
   * Meets the nodes with each other and waits until they all know each other; re-meets every few
   * seconds.
   */
  public void join(String step, List<PodNode> members) {
    long[] lastMeet = {0};
    Wait.until(
        step,
        timeout,
        () -> {
          if (System.nanoTime() - lastMeet[0] > Duration.ofSeconds(3).toNanos()) {
            Snapshot fresh =
                Snapshot.take(step, members.stream().map(PodNode::pod).toList(), clients)
                    .requireAllReachable();
            meetStale(fresh.members());
            lastMeet[0] = System.nanoTime();
          }
          return mutualKnowledgeProblem(members);
        });
  }

  /**
   * The M masters that should serve slots, from the state: staying masters that serve slots (the M
   * largest when there are more), then, when fewer, empty staying masters as new shards (the
   * ordinal layout's first pods of a shard first, then the lowest ordinal). Lowest ordinal first.
   * Masters are never chosen by ordinal alone: failovers, replica changes and rolling restarts move
   * primaries to any pod.
   */
  public List<PodNode> designatedMasters(Snapshot snapshot) {
    List<PodNode> staying =
        snapshot.members().stream().filter(m -> !layout.isDeparting(m.ordinal())).toList();
    List<PodNode> chosen =
        new ArrayList<>(
            staying.stream()
                .filter(m -> m.isMaster() && m.slotCount() > 0)
                .sorted(
                    Comparator.comparingInt(PodNode::slotCount)
                        .reversed()
                        .thenComparingInt(PodNode::ordinal))
                .limit(layout.masters())
                .toList());
    staying.stream()
        .filter(m -> m.isMaster() && m.slotCount() == 0)
        .sorted(
            Comparator.comparing((PodNode m) -> !layout.isLeader(m.ordinal()))
                .thenComparingInt(PodNode::ordinal))
        .limit(Math.max(0, layout.masters() - chosen.size()))
        .forEach(chosen::add);
    if (chosen.size() < layout.masters()) {
      throw new StepFailedException(
          "choose " + layout.masters() + " masters",
          null,
          "only "
              + chosen.size()
              + " staying nodes are masters (serving slots or empty); the others replicate");
    }
    chosen.sort(Comparator.comparingInt(PodNode::ordinal));
    return chosen;
  }

  /**
   * Makes every staying node that is not a chosen master a replica of one: a node that replicates
   * none of them goes to the master with the fewest replicas (a fresh pod to its layout shard's
   * master among equals), and a replica of a master with more than replicasPerMaster moves to a
   * master with fewer. Nodes that still serve slots are left for after their slots moved. Waits
   * until attached and in sync.
   */
  public int attachReplicas(String step, Snapshot snapshot, List<PodNode> masters) {
    List<String> masterIds = masters.stream().map(PodNode::id).toList();
    Map<String, Integer> replicaCount = new LinkedHashMap<>();
    masters.forEach(m -> replicaCount.put(m.id(), 0));
    List<PodNode> staying =
        snapshot.members().stream()
            .filter(m -> !layout.isDeparting(m.ordinal()) && !masterIds.contains(m.id()))
            .toList();
    for (PodNode node : staying) {
      String current = node.view().myself().masterId();
      if (current != null && replicaCount.containsKey(current)) {
        replicaCount.merge(current, 1, Integer::sum);
      }
    }
    Map<PodNode, PodNode> attached = new LinkedHashMap<>();
    // Unattached nodes in ordinal order, then surplus replicas from the highest ordinal down.
    List<PodNode> order = new ArrayList<>();
    staying.stream()
        .filter(n -> !replicaCount.containsKey(String.valueOf(n.view().myself().masterId())))
        .forEach(order::add);
    staying.stream()
        .filter(n -> replicaCount.containsKey(String.valueOf(n.view().myself().masterId())))
        .sorted(Comparator.comparingInt(PodNode::ordinal).reversed())
        .forEach(order::add);
    for (PodNode node : order) {
      String current = node.view().myself().masterId();
      boolean attachedNow = current != null && replicaCount.containsKey(current);
      if (node.isMaster() && node.slotCount() > 0) {
        LOG.info(
            "action=wait pod={} reason=\"{}: serves slots but is not a chosen master; attached after"
                + " its slots moved\"",
            node.pod().name(),
            step);
        continue;
      }
      PodNode master =
          masters.stream()
              .min(
                  Comparator.<PodNode>comparingInt(m -> replicaCount.get(m.id()))
                      .thenComparing(
                          m -> layout.shardOf(m.ordinal()) != layout.shardOf(node.ordinal()))
                      .thenComparingInt(PodNode::ordinal))
              .orElseThrow();
      if (attachedNow
          && (replicaCount.get(current) <= layout.replicasPerMaster()
              || replicaCount.get(master.id()) >= layout.replicasPerMaster())) {
        continue; // where it is, or nowhere better
      }
      LOG.info(
          "action=replicate pod={} from={} to=replica-of-{} reason=\"{}: that primary had {}"
              + " replicas{}\"",
          node.pod().name(),
          current == null ? "master" : "replica-of-" + current,
          master.pod().name(),
          step,
          replicaCount.get(master.id()),
          attachedNow ? ", the current one " + replicaCount.get(current) : "");
      node.client().step(step + ": replicate " + master.pod().name()).replicate(master.id());
      if (attachedNow) {
        replicaCount.merge(current, -1, Integer::sum);
      }
      replicaCount.merge(master.id(), 1, Integer::sum);
      attached.put(node, master);
    }
    Wait.until(
        step + ": wait for replicas to attach",
        timeout,
        () -> {
          for (var e : attached.entrySet()) {
            ClusterNode self = ClusterView.read(e.getKey().client().step(step)).myself();
            if (!e.getValue().id().equals(self.masterId())) {
              return e.getKey().describe()
                  + " does not replicate "
                  + e.getValue().describe()
                  + " yet";
            }
          }
          return null;
        });
    if (!attached.isEmpty()) {
      waitReplicasInSync(step + ": wait for replicas to sync");
    }
    return attached.size();
  }

  /**
   * Waits until every replica among the pods has its replication link up: a replica still syncing
   * misses the SETSLOT states its primary replicates and would keep a stale open slot.
   */
  public void waitReplicasInSync(String step) {
    Wait.until(
        step,
        timeout,
        () -> {
          for (PodNode m : snapshot(step).members()) {
            if (m.view().myself().isReplica()) {
              Map<String, String> repl = m.client().step(step).info("replication");
              if (!"up".equals(repl.get("master_link_status"))) {
                return m.describe() + " has master_link_status:" + repl.get("master_link_status");
              }
            }
          }
          return null;
        });
  }

  /** Attempts of {@link #balance} when jobs fail while source and target still answer. */
  static final int BALANCE_ATTEMPTS = 3;

  /**
   * Moves slots so the given masters are within one slot of each other and no other master serves
   * any, with atomic slot migration ({@link AtomicSlotMigration}): first the jobs an interrupted
   * run left running end, then the plan is made from the slots as the nodes own them. A job that
   * fails while its source and target both still answer (a passing cause: a replica briefly away, a
   * fork busy with a full sync) is planned and started again, {@value #BALANCE_ATTEMPTS} attempts
   * in all; otherwise a failed job fails the step (its slots stayed with the source; a rerun plans
   * again). Returns the slots moved.
   */
  public int balance(String step, List<PodNode> keep) {
    long before = atomic.slotsMoved();
    List<String> keepIds = keep.stream().map(PodNode::id).toList();
    for (int attempt = 1; ; attempt++) {
      Snapshot snapshot = snapshot(step);
      List<PodNode> masters = snapshot.members().stream().filter(PodNode::isMaster).toList();
      atomic.awaitIdle(step, masters);
      ClusterView reference = ClusterView.read(keep.get(0).client().step(step));
      Map<String, BitSet> owned = new LinkedHashMap<>();
      for (ClusterNode n : reference.nodes()) {
        if (n.isMaster() && n.slotCount() > 0) {
          owned.put(n.id(), n.slots());
        }
      }
      List<SlotBalancer.Move> moves = SlotBalancer.plan(keepIds, owned);
      if (moves.isEmpty()) {
        return (int) (atomic.slotsMoved() - before);
      }
      requireAtomicSlotMigration(snapshot);
      Map<String, PodNode> byId = new HashMap<>();
      snapshot.members().forEach(m -> byId.put(m.id(), m));
      moves.forEach(
          m -> {
            requireMember(byId, m.from(), step);
            requireMember(byId, m.to(), step);
          });
      waitReplicasInSync(step + ": wait for replicas to sync before moving slots");
      LOG.info("action=move-slots slots={} reason=\"{}\"", moves.size(), step);
      List<AtomicSlotMigration.Failed> failed = atomic.run(step, moves, byId);
      if (failed.isEmpty()) {
        return (int) (atomic.slotsMoved() - before);
      }
      AtomicSlotMigration.Failed first = failed.get(0);
      String text =
          first.text() + (failed.size() > 1 ? " (and " + (failed.size() - 1) + " more jobs)" : "");
      if (attempt < BALANCE_ATTEMPTS
          && failed.stream().allMatch(AtomicSlotMigration.Failed::bothAnswer)) {
        LOG.warn(
            "action=retry step=\"{}\" attempt={} reason=\"{}; source and target answer, so"
                + " planning and starting the moves again\"",
            step,
            attempt + 1,
            text);
        Wait.sleep(Duration.ofSeconds(1));
        continue;
      }
      throw new StepFailedException(
          step, first.target(), text + "; the slots stayed with their source, a rerun moves them");
    }
  }

  /** The oldest Valkey that has atomic slot migration. */
  static final String ATOMIC_SLOT_MIGRATION_SINCE = "9.0.0";

  /**
   * Refuses (exit 2) to move slots when a node runs a Valkey without atomic slot migration: one
   * line naming the node, the version found and the version needed.
   */
  public void requireAtomicSlotMigration(Snapshot snapshot) {
    for (PodNode m : snapshot.members()) {
      String version = m.client().step("read the server version").serverVersion();
      if (ServerVersion.compare(version, minimumVersion) < 0) {
        throw new UnsupportedServerException(
            m.describe()
                + " runs Valkey "
                + version
                + "; moving slots needs Valkey "
                + minimumVersion
                + " or newer (atomic slot migration, CLUSTER MIGRATESLOTS)");
      }
    }
  }

  private String minimumVersion = ATOMIC_SLOT_MIGRATION_SINCE;

  /** Test seam: the version {@link #requireAtomicSlotMigration} requires. */
  public void requireVersion(String minimum) {
    this.minimumVersion = minimum;
  }

  /** The atomic migrations of this run: slots moved. */
  public AtomicSlotMigration atomic() {
    return atomic;
  }

  private static PodNode requireMember(Map<String, PodNode> byId, String id, String step) {
    PodNode m = byId.get(id);
    if (m == null) {
      throw new StepFailedException(step, "node " + id, "master not reachable through any pod");
    }
    return m;
  }

  /**
   * Finishes or rolls back slots left open by an interrupted run, once every replica is in sync: a
   * replica still syncing misses the SETSLOT states its primary replicates (as in {@link
   * #balance}), and a target restarted after a kill comes back as a replica while its primary
   * closes the slot.
   */
  public int repairOpenSlots(String step) {
    Snapshot snapshot = snapshot(step);
    if (OpenSlotRepair.hasOpenSlots(snapshot)) {
      waitReplicasInSync(step + ": wait for replicas to sync");
      snapshot = snapshot(step);
    }
    int closed = OpenSlotRepair.repair(snapshot, migrator);
    if (closed > 0) {
      LOG.info("action=close-open-slots slots={} reason=\"{}\"", closed, step);
    }
    return closed;
  }
}
