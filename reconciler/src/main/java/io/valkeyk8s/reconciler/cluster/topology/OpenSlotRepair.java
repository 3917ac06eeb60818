package io.valkeyk8s.reconciler.cluster.topology;

import io.valkeyk8s.reconciler.valkey.NodeClient;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes every slot left MIGRATING or IMPORTING by an interrupted run: finishes the move when both
 * sides are still masters, otherwise rolls the slot back to its owner. Never leaves a slot open.
 */
final class OpenSlotRepair {
  private static final Logger LOG = LoggerFactory.getLogger(OpenSlotRepair.class);

  private OpenSlotRepair() {}

  /** Returns how many open slots it closed. */
  static int repair(Snapshot snapshot, SlotMigrator migrator) {
    List<PodNode> masters = snapshot.members().stream().filter(PodNode::isMaster).toList();
    TreeSet<Integer> open = new TreeSet<>();
    for (PodNode m : masters) {
      open.addAll(m.view().myself().migrating().keySet());
      open.addAll(m.view().myself().importing().keySet());
    }
    List<NodeClient> clients = masters.stream().map(PodNode::client).toList();
    for (int slot : open) {
      closeSlot(slot, snapshot, masters, clients, migrator);
    }
    return open.size();
  }

  private static void closeSlot(
      int slot,
      Snapshot snapshot,
      List<PodNode> masters,
      List<NodeClient> clients,
      SlotMigrator migrator) {
    Optional<PodNode> owner =
        masters.stream()
            .filter(m -> m.view().myself().slots().get(slot))
            .max(Comparator.comparingLong(m -> m.view().myself().configEpoch()));
    PodNode importer =
        masters.stream()
            .filter(m -> m.view().myself().importing().containsKey(slot))
            .findFirst()
            .orElse(null);
    PodNode migrating =
        masters.stream()
            .filter(m -> m.view().myself().migrating().containsKey(slot))
            .findFirst()
            .orElse(null);

    PodNode source = null;
    PodNode target = null;
    if (owner.isPresent()) {
      PodNode o = owner.get();
      if (importer != null && importer != o) {
        source = o;
        target = importer;
      } else if (migrating == o) {
        Optional<PodNode> t =
            snapshot.byId(o.view().myself().migrating().get(slot)).filter(PodNode::isMaster);
        if (t.isPresent()) {
          source = o;
          target = t.get();
        }
      } else if (migrating != null) {
        // The target already took the slot (SETSLOT NODE ran there first); the old source still
        // migrates.
        source = migrating;
        target = o;
      }
    }
    if (target == null) {
      LOG.info(
          "action=roll-back-slot slot={} pod={} reason=\"an open migration without a live target\"",
          slot,
          owner.map(m -> m.pod().name()).orElse("none"));
      for (PodNode m :
          Stream.of(owner.orElse(null), importer, migrating)
              .filter(Objects::nonNull)
              .distinct()
              .toList()) {
        m.client().step("roll back open slot " + slot).setSlotStable(slot);
      }
      return;
    }
    LOG.info(
        "action=finish-slot slot={} from={} to={} reason=\"an interrupted migration left it open\"",
        slot,
        source.pod().name(),
        target.pod().name());
    migrator.complete(slot, source, target, clients);
    for (PodNode m : Stream.of(importer, migrating).filter(Objects::nonNull).toList()) {
      if (m != target && m != source) {
        m.client().step("close stale open slot " + slot).setSlotStable(slot);
      }
    }
  }
}
