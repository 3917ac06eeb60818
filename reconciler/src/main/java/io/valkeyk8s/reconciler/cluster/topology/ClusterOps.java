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
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
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
  private final Duration timeout;
  static final Duration HEALTH_GRACE = Duration.ofSeconds(20);
  static final int MIGRATION_WORKERS = 8;

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
   * For each shard 0..M-1, the node that should serve its slots: the master already serving slots
   * in that shard's pods, else the shard's lowest ordinal if it is a master.
   */
  public List<PodNode> designatedMasters(Snapshot snapshot) {
    List<PodNode> out = new ArrayList<>();
    for (int shard = 0; shard < layout.masters(); shard++) {
      int s = shard;
      List<PodNode> inShard =
          snapshot.members().stream()
              .filter(m -> layout.shardOf(m.ordinal()) == s && !layout.isDeparting(m.ordinal()))
              .toList();
      Optional<PodNode> serving =
          inShard.stream()
              .filter(m -> m.isMaster() && m.slotCount() > 0)
              .max(Comparator.comparingInt(PodNode::slotCount));
      Optional<PodNode> chosen =
          serving
              .or(
                  () ->
                      inShard.stream()
                          .filter(m -> m.ordinal() == layout.leaderOrdinal(s) && m.isMaster())
                          .findFirst())
              .or(() -> inShard.stream().filter(PodNode::isMaster).findFirst());
      out.add(
          chosen.orElseThrow(
              () ->
                  new StepFailedException(
                      "choose the primary of shard " + s,
                      "pod ordinal " + layout.leaderOrdinal(s),
                      "no master node among the shard's pods")));
    }
    return out;
  }

  /**
   * Every node that is not a designated master and does not yet replicate one becomes a replica of
   * the master with the fewest replicas (its own shard's master first among equals). Waits until
   * attached.
   */
  public int attachReplicas(String step, Snapshot snapshot, List<PodNode> masters) {
    List<String> masterIds = masters.stream().map(PodNode::id).toList();
    ClusterView reference = ClusterView.read(masters.get(0).client().step(step));
    Map<String, Integer> replicaCount = new LinkedHashMap<>();
    for (PodNode m : masters) {
      replicaCount.put(
          m.id(),
          (int)
              reference.replicasOf(m.id()).stream()
                  .filter(
                      r ->
                          snapshot
                              .byId(r.id())
                              .filter(x -> !layout.isDeparting(x.ordinal()))
                              .isPresent())
                  .count());
    }
    Map<PodNode, PodNode> attached = new LinkedHashMap<>();
    for (PodNode node : snapshot.members()) {
      if (layout.isDeparting(node.ordinal()) || masterIds.contains(node.id())) {
        continue;
      }
      String current = node.view().myself().masterId();
      if (current != null && masterIds.contains(current)) {
        continue;
      }
      if (node.isMaster() && node.slotCount() > 0) {
        throw new StepFailedException(
            step,
            node.describe(),
            "serves slots but is not the chosen master of its shard; move its slots first");
      }
      PodNode master =
          masters.stream()
              .min(
                  Comparator.<PodNode>comparingInt(m -> replicaCount.get(m.id()))
                      .thenComparing(
                          m -> layout.shardOf(m.ordinal()) != layout.shardOf(node.ordinal()))
                      .thenComparingInt(PodNode::ordinal))
              .orElseThrow();
      LOG.info(
          "action=replicate pod={} from={} to=replica-of-{} reason=\"shard {}, its primary had {}"
              + " replicas\"",
          node.pod().name(),
          current == null ? "master" : "replica-of-" + current,
          master.pod().name(),
          layout.shardOf(master.ordinal()),
          replicaCount.get(master.id()));
      node.client().step(step + ": replicate " + master.pod().name()).replicate(master.id());
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

  /**
   * Moves slots so the given masters are within one slot of each other and no other master serves
   * any.
   */
  public int balance(String step, List<PodNode> keep) {
    Snapshot snapshot = snapshot(step);
    ClusterView reference = ClusterView.read(keep.get(0).client().step(step));
    Map<String, BitSet> owned = new LinkedHashMap<>();
    for (ClusterNode n : reference.nodes()) {
      if (n.isMaster() && n.slotCount() > 0) {
        owned.put(n.id(), n.slots());
      }
    }
    List<SlotBalancer.Move> moves =
        SlotBalancer.plan(keep.stream().map(PodNode::id).toList(), owned);
    if (moves.isEmpty()) {
      return 0;
    }
    waitReplicasInSync(step + ": wait for replicas to sync before moving slots");
    Map<String, PodNode> byId = new HashMap<>();
    snapshot.members().forEach(m -> byId.put(m.id(), m));
    moves.forEach(
        m -> {
          requireMember(byId, m.from(), step);
          requireMember(byId, m.to(), step);
        });
    LOG.info("action=move-slots slots={} reason=\"{}\"", moves.size(), step);
    // Several slots in flight: each SETSLOT blocks its connection until the primary's replicas
    // acknowledge it, so every worker has its own connections and throughput comes from overlap.
    Queue<SlotBalancer.Move> queue = new ConcurrentLinkedQueue<>(moves);
    int workers = Math.min(MIGRATION_WORKERS, moves.size());
    ExecutorService pool = Executors.newFixedThreadPool(workers);
    AtomicBoolean failed = new AtomicBoolean();
    List<Future<?>> futures = new ArrayList<>();
    for (int w = 0; w < workers; w++) {
      futures.add(
          pool.submit(
              () -> {
                try (NodeClients own = clients.fork()) {
                  SlotBalancer.Move move;
                  while (!failed.get()
                      && !Thread.currentThread().isInterrupted()
                      && (move = queue.poll()) != null) {
                    PodNode source = byId.get(move.from());
                    PodNode target = byId.get(move.to());
                    try {
                      migrator.move(
                          move.slot(),
                          source.pod().node(own, step),
                          source.id(),
                          target.pod().node(own, step),
                          target.id(),
                          List.of());
                    } catch (RuntimeException e) {
                      failed.set(true);
                      throw e;
                    }
                  }
                }
                return null;
              }));
    }
    pool.shutdown();
    RuntimeException first = null;
    for (Future<?> f : futures) {
      try {
        f.get();
      } catch (java.util.concurrent.ExecutionException e) {
        if (first == null) {
          first =
              e.getCause() instanceof RuntimeException r ? r : new RuntimeException(e.getCause());
        }
      } catch (InterruptedException e) {
        pool.shutdownNow();
        Thread.currentThread().interrupt();
        throw new StepFailedException(step, null, "interrupted");
      }
    }
    if (first != null) {
      throw first;
    }
    return moves.size();
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
