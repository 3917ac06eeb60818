package io.valkeyk8s.reconciler.cluster.topology;

/**
 * Called after each CLUSTER MIGRATESLOTS job started ({@link AtomicSlotMigration}: the job's first
 * slot, 0 keys) and after each MIGRATE batch of the key-by-key path ({@link SlotMigrator}); tests
 * use it to stop a migration half way.
 */
@FunctionalInterface
public interface MigrationHook {
  MigrationHook NONE = (slot, keys) -> {};

  void afterBatch(int slot, int keysMoved);
}
