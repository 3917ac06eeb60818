package io.valkeyk8s.reconciler.cluster;

import io.valkeyk8s.reconciler.core.StepFailedException;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Empties the pods the StatefulSet is about to remove (the highest ordinals): primaries there fail
 * over to a staying replica or give their slots away, then the departing nodes are reset and
 * forgotten.
 */
public final class ClusterScaleDown {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterScaleDown.class);
  private final ClusterOps ops;

  public ClusterScaleDown(ClusterOps ops) {
    this.ops = ops;
  }

  public void run() {
    ShardLayout layout = ops.layout();
    Snapshot before = ops.snapshot("scale-down: read nodes").requireAllReachable();
    if (before.pods().stream().noneMatch(p -> layout.isDeparting(p.ordinal()))) {
      // pre-upgrade hook of every upgrade, scale-ups included: nothing departs, nothing to do
      LOG.info("scale-down: no pod departs with {} masters; nothing to do", layout.masters());
      return;
    }
    ops.requireHealthy("scale-down", before);
    ops.repairOpenSlots("scale-down: close open slots");

    failOverDepartingPrimaries(ops.snapshot("scale-down: read nodes").requireAllReachable());

    Snapshot snapshot = ops.snapshot("scale-down: read nodes").requireAllReachable();
    List<Member> masters = ops.designatedMasters(snapshot);
    int moved =
        ops.balance(
            "scale-down: move slots to the " + masters.size() + " staying masters", masters);
    LOG.info("scale-down: moved {} slots, {} keys", moved, ops.migrator().keysMoved());

    Snapshot after = ops.snapshot("scale-down: read nodes").requireAllReachable();
    ops.attachReplicas("scale-down: attach staying replicas", after, ops.designatedMasters(after));
    forgetDeparting(ops.snapshot("scale-down: read nodes").requireAllReachable());
    ops.waitHealthy(
        "scale-down: wait for cluster_state:ok",
        after.pods().stream().filter(p -> !layout.isDeparting(p.ordinal())).toList());
    LOG.info("scale-down: cluster ok with {} masters", layout.masters());
  }

  /**
   * A primary on a departing pod with a replica on a staying pod hands over with CLUSTER FAILOVER.
   */
  private void failOverDepartingPrimaries(Snapshot snapshot) {
    ShardLayout layout = ops.layout();
    for (Member primary : snapshot.mastersWithSlots()) {
      if (!layout.isDeparting(primary.ordinal())) {
        continue;
      }
      Optional<Member> heir =
          snapshot.members().stream()
              .filter(
                  m ->
                      !layout.isDeparting(m.ordinal())
                          && primary.id().equals(m.view().myself().masterId()))
              .findFirst();
      if (heir.isEmpty()) {
        continue; // its slots move to staying masters instead
      }
      String step = "scale-down: fail over " + primary.describe() + " to " + heir.get().describe();
      LOG.info("{} (primary on departing pod)", step);
      heir.get().client().step(step).failover();
      Wait.until(
          step,
          java.time.Duration.ofSeconds(60),
          () ->
              ClusterView.read(heir.get().client().step(step)).myself().isMaster()
                  ? null
                  : heir.get().describe() + " is not master yet");
    }
  }

  /**
   * CLUSTER RESET HARD on each departing node, then CLUSTER FORGET of its id on every staying node.
   */
  private void forgetDeparting(Snapshot snapshot) {
    ShardLayout layout = ops.layout();
    List<Member> staying =
        snapshot.members().stream().filter(m -> !layout.isDeparting(m.ordinal())).toList();
    Set<String> stayingIds = new HashSet<>();
    staying.forEach(m -> stayingIds.add(m.id()));
    Set<String> gone = new HashSet<>();
    for (Member m : staying) {
      m.view()
          .nodes()
          .forEach(
              n -> {
                if (!stayingIds.contains(n.id())) {
                  gone.add(n.id());
                }
              });
    }
    for (Member departing : snapshot.members()) {
      if (layout.isDeparting(departing.ordinal()) && !departing.view().isAlone()) {
        if (departing.isMaster() && departing.slotCount() > 0) {
          throw new StepFailedException(
              "scale-down: remove departing node",
              departing.describe(),
              "still serves slots " + SlotMigrator.ranges(departing.view().myself().slots()));
        }
        LOG.info("scale-down: reset {} (departing pod)", departing.describe());
        departing.client().step("scale-down: reset departing node").resetHard();
      }
    }
    for (String id : gone) {
      for (Member m : staying) {
        if (m.view().knows(id)) {
          LOG.info("scale-down: {} forgets node {}", m.describe(), id);
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
    Wait.until(
        "scale-down: wait until departing nodes are forgotten",
        java.time.Duration.ofSeconds(60),
        () -> {
          for (Member m : staying) {
            for (ClusterNode n : ClusterView.read(m.client().step("read CLUSTER NODES")).nodes()) {
              if (!stayingIds.contains(n.id())) {
                return m.describe() + " still knows " + n.id() + " " + n.address();
              }
            }
          }
          return null;
        });
  }
}
