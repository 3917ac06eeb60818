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

    failOverDepartingPrimaries(ops, ops.snapshot("scale-down: read nodes").requireAllReachable());

    Snapshot snapshot = ops.snapshot("scale-down: read nodes").requireAllReachable();
    List<PodNode> masters = ops.designatedMasters(snapshot);
    int moved =
        ops.balance(
            "scale-down: move slots to the " + masters.size() + " staying masters", masters);
    LOG.info("action=slots-moved slots={} keys={}", moved, ops.migrator().keysMoved());

    Snapshot after = ops.snapshot("scale-down: read nodes").requireAllReachable();
    ops.attachReplicas("scale-down: attach staying replicas", after, ops.designatedMasters(after));
    forgetDeparting(ops, ops.snapshot("scale-down: read nodes").requireAllReachable());
    ops.waitHealthy(
        "scale-down: wait for cluster_state:ok",
        after.pods().stream().filter(p -> !layout.isDeparting(p.ordinal())).toList());
    LOG.info("action=cluster-ok masters={}", layout.masters());
  }

  /**
   * A primary on a departing pod with a replica on a staying pod hands over with CLUSTER FAILOVER.
   */
  private void failOverDepartingPrimaries(ClusterOps ops, Snapshot snapshot) {
    ShardLayout layout = ops.layout();
    for (PodNode primary : snapshot.mastersWithSlots()) {
      if (!layout.isDeparting(primary.ordinal())) {
        continue;
      }
      Optional<PodNode> heir =
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
      LOG.info(
          "action=failover pod={} from=replica to=primary reason=\"its primary {} is on a departing"
              + " pod\"",
          heir.get().pod().name(),
          primary.pod().name());
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
    Wait.until(
        "scale-down: wait until departing nodes are forgotten",
        java.time.Duration.ofSeconds(60),
        () -> {
          for (PodNode m : staying) {
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
