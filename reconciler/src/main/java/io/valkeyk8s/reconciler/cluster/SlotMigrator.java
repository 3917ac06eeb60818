package io.valkeyk8s.reconciler.cluster;

import java.util.BitSet;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves one slot between masters with the CLUSTER SETSLOT IMPORTING / MIGRATING / NODE protocol and
 * MIGRATE in batches. Nothing is undone on failure: the slot stays open and {@link OpenSlotRepair}
 * finishes it on the next run.
 */
public final class SlotMigrator {
  private static final Logger LOG = LoggerFactory.getLogger(SlotMigrator.class);
  static final int BATCH_KEYS = 500;
  static final long MIGRATE_TIMEOUT_MS = 60_000;

  private final MigrationHook hook;
  private final AtomicLong keysMoved = new AtomicLong();
  private final AtomicLong slotsMoved = new AtomicLong();

  public SlotMigrator(MigrationHook hook) {
    this.hook = hook;
  }

  public long keysMoved() {
    return keysMoved.get();
  }

  public long slotsMoved() {
    return slotsMoved.get();
  }

  /** Moves a stable slot owned by source to target. */
  public void move(
      int slot,
      NodeClient source,
      String sourceId,
      NodeClient target,
      String targetId,
      Collection<NodeClient> otherMasters) {
    target.setSlotImporting("import slot " + slot, slot, sourceId);
    source.setSlotMigrating("migrate slot " + slot, slot, targetId);
    drain(slot, source, target);
    assign(slot, targetId, target, source, otherMasters);
  }

  /**
   * Finishes a slot left open by an interrupted run: whatever state each side is in, the keys end
   * on the target and every master agrees the target owns the slot.
   */
  public void complete(
      int slot, Member source, Member target, Collection<NodeClient> otherMasters) {
    ClusterNode targetSelf = target.client().view("read target of open slot " + slot).myself();
    ClusterNode sourceSelf = source.client().view("read source of open slot " + slot).myself();
    if (!targetSelf.slots().get(slot) && !source.id().equals(targetSelf.importing().get(slot))) {
      target.client().setSlotImporting("import slot " + slot, slot, source.id());
    }
    if (sourceSelf.slots().get(slot) && !target.id().equals(sourceSelf.migrating().get(slot))) {
      source.client().setSlotMigrating("migrate slot " + slot, slot, target.id());
    }
    drain(slot, source.client(), target.client());
    assign(slot, target.id(), target.client(), source.client(), otherMasters);
  }

  private void drain(int slot, NodeClient source, NodeClient target) {
    String step = "move keys of slot " + slot + " to " + target.describe();
    while (true) {
      List<byte[]> keys = source.keysInSlot(step, slot, BATCH_KEYS);
      if (keys.isEmpty()) {
        return;
      }
      source.migrate(step, target.address(), keys, MIGRATE_TIMEOUT_MS);
      keysMoved.addAndGet(keys.size());
      hook.afterBatch(slot, keys.size());
      if (keys.size() < BATCH_KEYS) {
        // That was every key of the slot; a MIGRATING source sends writes to new keys to the
        // target.
        return;
      }
    }
  }

  /** SETSLOT NODE on the target first (it bumps its epoch), then the source, then everyone else. */
  private void assign(
      int slot,
      String targetId,
      NodeClient target,
      NodeClient source,
      Collection<NodeClient> otherMasters) {
    String step = "assign slot " + slot + " to " + target.describe();
    target.setSlotNode(step, slot, targetId);
    try {
      source.setSlotNode(step, slot, targetId);
    } catch (StepFailedException e) {
      // A source giving away its last slot turns into a replica of the target while the command
      // waits
      // for its replicas (UNBLOCKED ... master -> replica). What counts is that it sees the new
      // owner.
      Wait.until(
          step + " (source sees the new owner)",
          java.time.Duration.ofSeconds(15),
          () ->
              source.view(step).ownerOf(slot).map(n -> n.id().equals(targetId)).orElse(false)
                  ? null
                  : source.describe() + " does not see the new owner: " + e.getMessage());
      LOG.info(
          "slot {}: {} ({}), and it already sees the new owner",
          slot,
          e.getMessage(),
          source.describe());
    }
    for (NodeClient other : otherMasters) {
      if (other != target && other != source) {
        try {
          other.setSlotNode(step, slot, targetId);
        } catch (StepFailedException e) {
          // Gossip carries the new owner to this node anyway; the convergence wait checks it.
          LOG.debug("{}", e.getMessage());
        }
      }
    }
    slotsMoved.incrementAndGet();
  }

  /** Slots of a bit set, lowest first, for logs. */
  static String ranges(BitSet slots) {
    StringBuilder out = new StringBuilder();
    int start = slots.nextSetBit(0);
    while (start >= 0) {
      int end = slots.nextClearBit(start) - 1;
      out.append(out.isEmpty() ? "" : ",").append(start == end ? start : start + "-" + end);
      start = slots.nextSetBit(end + 1);
    }
    return out.toString();
  }
}
