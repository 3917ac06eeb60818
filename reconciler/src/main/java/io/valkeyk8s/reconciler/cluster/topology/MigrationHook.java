package io.valkeyk8s.reconciler.cluster.topology;

/**
 * Called by {@link SlotMigrator} after each MIGRATE batch; tests use it to stop a migration half
 * way.
 */
@FunctionalInterface
public interface MigrationHook {
  MigrationHook NONE = (slot, keys) -> {};

  void afterBatch(int slot, int keysMoved);
}
