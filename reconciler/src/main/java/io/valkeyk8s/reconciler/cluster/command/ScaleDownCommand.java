package io.valkeyk8s.reconciler.cluster.command;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.valkeyk8s.reconciler.cluster.topology.ClusterNode;
import io.valkeyk8s.reconciler.cluster.topology.ClusterOps;
import io.valkeyk8s.reconciler.cluster.topology.ClusterView;
import io.valkeyk8s.reconciler.cluster.topology.PodNode;
import io.valkeyk8s.reconciler.cluster.topology.ShardLayout;
import io.valkeyk8s.reconciler.cluster.topology.SlotMigrator;
import io.valkeyk8s.reconciler.cluster.topology.Snapshot;
import io.valkeyk8s.reconciler.cluster.topology.Wait;
import io.valkeyk8s.reconciler.core.StepFailedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;

/**
 * Empties the pods the StatefulSet is about to remove (the highest ordinals): primaries there fail
 * over to a staying replica or give their slots away, then the departing nodes are reset and
 * forgotten.
 *
 * <p>{@code scale-down}: one-shot, for the chart's hook Job. Exit 0 done, 1 a step failed, 2 bad
 * settings.
 */
@Command(
    name = "scale-down",
    mixinStandardHelpOptions = true,
    description =
        "Empties the pods about to be removed: fails over or moves their slots, then forgets them (idempotent).")
public final class ScaleDownCommand extends OneShotCommand {
  private static final Logger LOG = LoggerFactory.getLogger(ScaleDownCommand.class);

  public ScaleDownCommand(Map<String, String> env, Supplier<KubernetesClient> kube) {
    super(env, kube);
  }

  @Override
  String name() {
    return "scale-down";
  }

  @Override
  public void execute(ClusterOps ops) {
    ShardLayout layout = ops.layout();
    Snapshot before = ops.snapshot("scale-down: read nodes").requireAllReachable();
    if (before.pods().stream().noneMatch(p -> layout.isDeparting(p.ordinal()))) {
      // pre-upgrade hook of every upgrade, scale-ups included: nothing departs, nothing to do
      LOG.info(
          "action=skip reason=\"no pod departs with {} masters: nothing to do\"", layout.masters());
      return;
    }
    ops.requireHealthy("scale-down", before);
    ops.repairOpenSlots("scale-down: close open slots");

    handOverDepartingPrimaries(ops);

    Snapshot snapshot = ops.snapshot("scale-down: read nodes").requireAllReachable();
    List<PodNode> masters = ops.designatedMasters(snapshot);
    int moved =
        ops.balance(
            "scale-down: move slots to the " + masters.size() + " staying masters", masters);
    LOG.info("action=slots-moved slots={}", moved);

    Snapshot after = ops.snapshot("scale-down: read nodes").requireAllReachable();
    ops.attachReplicas("scale-down: attach staying replicas", after, ops.designatedMasters(after));
    forgetDeparting(ops, ops.snapshot("scale-down: read nodes").requireAllReachable());
    ops.waitHealthy(
        "scale-down: wait for cluster_state:ok",
        after.pods().stream().filter(p -> !layout.isDeparting(p.ordinal())).toList());
    LOG.info("action=cluster-ok masters={}", layout.masters());
  }

  /**
   * A primary on a departing pod hands its shard to a staying pod with CLUSTER FAILOVER: to its own
   * staying replica, or, when the staying pods would otherwise serve fewer than M shards (a whole
   * shard departs, e.g. 3x2 to 3x1 removes pods 6, 7 and 8), to a spare staying replica (one of a
   * primary with more than replicasPerMaster) first attached to it and synced. A departing primary
   * with neither gives its slots away in the balance step.
   */
  private void handOverDepartingPrimaries(ClusterOps ops) {
    ShardLayout layout = ops.layout();
    // Each round hands over one shard; the bound only guards against a failover that reverts.
    for (int round = 0; round <= 2 * layout.podCount(); round++) {
      Snapshot snapshot = ops.snapshot("scale-down: read nodes").requireAllReachable();
      List<PodNode> departing =
          snapshot.mastersWithSlots().stream()
              .filter(m -> layout.isDeparting(m.ordinal()))
              .toList();
      if (departing.isEmpty()) {
        return;
      }
      long stayingShards =
          snapshot.mastersWithSlots().stream()
              .filter(m -> !layout.isDeparting(m.ordinal()))
              .count();
      PodNode primary = null;
      PodNode heir = null;
      for (PodNode p : departing) {
        Optional<PodNode> own =
            snapshot.members().stream()
                .filter(
                    m ->
                        !layout.isDeparting(m.ordinal())
                            && p.id().equals(m.view().myself().masterId()))
                .min(Comparator.comparingInt(PodNode::ordinal));
        if (own.isPresent()) {
          primary = p;
          heir = own.get();
          break;
        }
      }
      if (heir == null && stayingShards < layout.masters()) {
        Optional<PodNode> spare = spareReplica(snapshot, layout);
        if (spare.isPresent()) {
          primary = departing.get(0);
          heir = spare.get();
          attachSpare(ops, heir, primary);
        }
      }
      if (heir == null) {
        return; // the remaining departing primaries give their slots away
      }
      failOver(heir, primary);
    }
    throw new StepFailedException(
        "scale-down: hand over departing primaries", null, "failovers did not stay in place");
  }

  /**
   * A staying replica whose primary keeps more than replicasPerMaster staying replicas: the last
   * one (highest ordinal) of the primary with the most.
   */
  private static Optional<PodNode> spareReplica(Snapshot snapshot, ShardLayout layout) {
    Map<String, List<PodNode>> byPrimary = new HashMap<>();
    snapshot.members().stream()
        .filter(m -> !layout.isDeparting(m.ordinal()) && m.view().myself().isReplica())
        .forEach(
            m ->
                byPrimary
                    .computeIfAbsent(m.view().myself().masterId(), k -> new ArrayList<>())
                    .add(m));
    return byPrimary.entrySet().stream()
        .filter(
            e ->
                e.getValue().size() > layout.replicasPerMaster()
                    && snapshot
                        .byId(e.getKey())
                        .filter(p -> !layout.isDeparting(p.ordinal()) && p.slotCount() > 0)
                        .isPresent())
        .max(Comparator.comparingInt(e -> e.getValue().size()))
        .flatMap(e -> e.getValue().stream().max(Comparator.comparingInt(PodNode::ordinal)));
  }

  /** CLUSTER REPLICATE of the spare to the departing primary, then waits until it is in sync. */
  private static void attachSpare(ClusterOps ops, PodNode spare, PodNode primary) {
    String step = "scale-down: attach " + spare.describe() + " to " + primary.describe();
    LOG.info(
        "action=replicate pod={} from=replica-of-{} to=replica-of-{} reason=\"the whole shard of {}"
            + " departs: a spare replica takes it over\"",
        spare.pod().name(),
        spare.view().myself().masterId(),
        primary.pod().name(),
        primary.pod().name());
    spare.client().step(step).replicate(primary.id());
    Wait.until(
        step,
        Duration.ofSeconds(120),
        () -> {
          if (!primary
              .id()
              .equals(ClusterView.read(spare.client().step(step)).myself().masterId())) {
            return spare.describe() + " does not replicate " + primary.describe() + " yet";
          }
          Map<String, String> repl = spare.client().step(step).info("replication");
          return "up".equals(repl.get("master_link_status"))
                  && "0".equals(repl.get("master_sync_in_progress"))
              ? null
              : spare.describe()
                  + " is not in sync yet: master_link_status:"
                  + repl.get("master_link_status");
        });
  }

  /** CLUSTER FAILOVER on the heir (it catches up with its paused primary first); waits for it. */
  private static void failOver(PodNode heir, PodNode primary) {
    String step = "scale-down: fail over " + primary.describe() + " to " + heir.describe();
    LOG.info(
        "action=failover pod={} from=replica to=primary reason=\"its primary {} is on a departing"
            + " pod\"",
        heir.pod().name(),
        primary.pod().name());
    heir.client().step(step).failover();
    Wait.until(
        step,
        Duration.ofSeconds(60),
        () ->
            ClusterView.read(heir.client().step(step)).myself().isMaster()
                ? null
                : heir.describe() + " is not master yet");
  }

  /**
   * CLUSTER RESET HARD on each departing node, then CLUSTER FORGET of its id on every staying node.
   */
  private void forgetDeparting(ClusterOps ops, Snapshot snapshot) {
    ShardLayout layout = ops.layout();
    List<PodNode> staying =
        snapshot.members().stream().filter(m -> !layout.isDeparting(m.ordinal())).toList();
    Set<String> stayingIds = new HashSet<>();
    staying.forEach(m -> stayingIds.add(m.id()));
    Set<String> gone = new HashSet<>();
    for (PodNode m : staying) {
      m.view()
          .nodes()
          .forEach(
              n -> {
                if (!stayingIds.contains(n.id())) {
                  gone.add(n.id());
                }
              });
    }
    for (PodNode departing : snapshot.members()) {
      if (layout.isDeparting(departing.ordinal()) && !departing.view().isAlone()) {
        if (departing.isMaster() && departing.slotCount() > 0) {
          throw new StepFailedException(
              "scale-down: remove departing node",
              departing.describe(),
              "still serves slots " + SlotMigrator.ranges(departing.view().myself().slots()));
        }
        LOG.info(
            "action=reset pod={} from=member to=alone reason=\"the pod departs\"",
            departing.pod().name());
        departing.client().step("scale-down: reset departing node").resetHard();
      }
    }
    for (String id : gone) {
      for (PodNode m : staying) {
        if (m.view().knows(id)) {
          LOG.info(
              "action=forget pod={} node={} to=forgotten reason=\"the node departed\"",
              m.pod().name(),
              id);
          try {
            m.client().step("scale-down: forget node " + id).forget(id);
          } catch (StepFailedException e) {
            if (!String.valueOf(e.getMessage()).contains("Unknown node")) {
              throw e;
            }
          }
        }
      }
    }
    // A node reset meanwhile has a new id that a staying node may learn by gossip after the
    // snapshot above was taken: forget whatever non-staying node a staying one still knows.
    Wait.until(
        "scale-down: wait until departing nodes are forgotten",
        Duration.ofSeconds(60),
        () -> {
          String known = null;
          for (PodNode m : staying) {
            for (ClusterNode n : ClusterView.read(m.client().step("read CLUSTER NODES")).nodes()) {
              if (!stayingIds.contains(n.id())) {
                known = m.describe() + " still knows " + n.id() + " " + n.address();
                forgetAgain(m, n.id());
              }
            }
          }
          return known;
        });
  }

  private static void forgetAgain(PodNode m, String id) {
    LOG.info(
        "action=forget pod={} node={} to=forgotten reason=\"still known after the first round\"",
        m.pod().name(),
        id);
    try {
      m.client().step("scale-down: forget node " + id).forget(id);
    } catch (StepFailedException e) {
      LOG.info("action=wait pod={} node={} reason=\"{}\"", m.pod().name(), id, e.getMessage());
    }
  }
}
