package io.valkeyk8s.reconciler.cluster.topology;

import io.valkeyk8s.reconciler.core.StepFailedException;
import io.valkeyk8s.reconciler.valkey.NodeClient;
import java.time.Duration;
import java.util.BitSet;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The key-by-key path: moves one slot between masters with the CLUSTER SETSLOT IMPORTING /
 * MIGRATING / NODE protocol and MIGRATE in batches. Slots are moved with {@link
 * AtomicSlotMigration}; this path remains for {@link OpenSlotRepair}, which finishes a slot that a
 * key-by-key migration (an earlier release of this reconciler, valkey-cli) left open, and for the
 * benchmark that compares both. Nothing is undone on failure: the slot stays open and the repair
 * finishes it on the next run.
 */
public final class SlotMigrator {
  private static final Logger LOG = LoggerFactory.getLogger(SlotMigrator.class);
  static final int BATCH_KEYS = 500;
  static final long MIGRATE_TIMEOUT_MS = 60_000;

  /** How long a SETSLOT refused with NOREPLICAS (a replica briefly away) is sent again. */
  static final Duration NO_REPLICAS_PATIENCE = Duration.ofSeconds(30);

  private final MigrationHook hook;
  private final AtomicLong keysMoved = new AtomicLong();
  private final AtomicLong slotsMoved = new AtomicLong();

  public SlotMigrator(MigrationHook hook) {
    this.hook = hook;
  }

  MigrationHook hook() {
    return hook;
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
    target.step("import slot " + slot).setSlotImporting(slot, sourceId);
    source.step("migrate slot " + slot).setSlotMigrating(slot, targetId);
    drain(slot, source, target);
    assign(slot, targetId, target, source, otherMasters);
  }

  /**
   * Finishes a slot left open by an interrupted run: whatever state each side is in, the keys end
   * on the target and every master agrees the target owns the slot.
   */
  public void complete(
      int slot, PodNode source, PodNode target, Collection<NodeClient> otherMasters) {
    ClusterNode targetSelf =
        ClusterView.read(target.client().step("read target of open slot " + slot)).myself();
    ClusterNode sourceSelf =
        ClusterView.read(source.client().step("read source of open slot " + slot)).myself();
    if (!targetSelf.slots().get(slot) && !source.id().equals(targetSelf.importing().get(slot))) {
      Wait.retryingNoReplicas(
          "import slot " + slot,
          NO_REPLICAS_PATIENCE,
          () -> target.client().step("import slot " + slot).setSlotImporting(slot, source.id()));
    }
    if (sourceSelf.slots().get(slot) && !target.id().equals(sourceSelf.migrating().get(slot))) {
      Wait.retryingNoReplicas(
          "migrate slot " + slot,
          NO_REPLICAS_PATIENCE,
          () -> source.client().step("migrate slot " + slot).setSlotMigrating(slot, target.id()));
    }
    drain(slot, source.client(), target.client());
    assign(slot, target.id(), target.client(), source.client(), otherMasters);
  }

  private void drain(int slot, NodeClient source, NodeClient target) {
    String step = "move keys of slot " + slot + " to " + target.describe();
    while (true) {
      List<byte[]> keys = source.step(step).keysInSlot(slot, BATCH_KEYS);
      if (keys.isEmpty()) {
        return;
      }
      Wait.retryingNoReplicas(
          step,
          NO_REPLICAS_PATIENCE,
          () -> source.step(step).migrate(target.address(), keys, MIGRATE_TIMEOUT_MS));
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
    Wait.retryingNoReplicas(
        step, NO_REPLICAS_PATIENCE, () -> target.step(step).setSlotNode(slot, targetId));
    try {
      source.step(step).setSlotNode(slot, targetId);
    } catch (StepFailedException e) {
      // A source giving away its last slot turns into a replica of the target while the command
      // waits
      // for its replicas (UNBLOCKED ... master -> replica). What counts is that it sees the new
      // owner.
      Wait.until(
          step + " (source sees the new owner)",
          java.time.Duration.ofSeconds(15),
          () ->
              ClusterView.read(source.step(step))
                      .ownerOf(slot)
                      .map(n -> n.id().equals(targetId))
                      .orElse(false)
                  ? null
                  : source.describe() + " does not see the new owner: " + e.getMessage());
      LOG.info(
          "action=assign-slot slot={} pod={} reason=\"it already sees the new owner after: {}\"",
          slot,
          source.describe(),
          e.getMessage());
    }
    for (NodeClient other : otherMasters) {
      if (other != target && other != source) {
        try {
          other.step(step).setSlotNode(slot, targetId);
        } catch (StepFailedException e) {
          // Gossip carries the new owner to this node anyway; the convergence wait checks it.
          LOG.debug("{}", e.getMessage());
        }
      }
    }
    slotsMoved.incrementAndGet();
  }

  /** Slots of a bit set, lowest first, for logs. */
  public static String ranges(BitSet slots) {
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
