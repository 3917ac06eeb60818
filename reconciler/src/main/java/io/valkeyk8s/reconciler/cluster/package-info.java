/**
 * Valkey Cluster mode: form, scale and heal a sharded cluster from a StatefulSet's pods. Three
 * packages, each using the one below it and the shared layers:
 *
 * <ul>
 *   <li>{@code command}: the one-shot hook Jobs {@code init}, {@code scale-up}, {@code scale-down}
 *       ({@link io.valkeyk8s.reconciler.cluster.command.OneShotCommand}): idempotent; exit 0 done,
 *       1 a step failed (one line "error: CMD: step 'S' failed on POD (IP:PORT): cause"), 2 bad
 *       settings.
 *   <li>{@code heal}: {@code cluster} ({@link
 *       io.valkeyk8s.reconciler.cluster.heal.ClusterCommand}), the long-running healer, whose
 *       {@link io.valkeyk8s.reconciler.cluster.heal.HealPass} runs on the shared loop.
 *   <li>{@code topology}: what both read and change: the pods ({@link
 *       io.valkeyk8s.reconciler.cluster.topology.ClusterPod}), each node's view ({@link
 *       io.valkeyk8s.reconciler.cluster.topology.ClusterView}, {@link
 *       io.valkeyk8s.reconciler.cluster.topology.Snapshot}), the shard layout, slot moves ({@link
 *       io.valkeyk8s.reconciler.cluster.topology.SlotBalancer}, {@link
 *       io.valkeyk8s.reconciler.cluster.topology.SlotMigrator}, {@link
 *       io.valkeyk8s.reconciler.cluster.topology.OpenSlotRepair}) and the steps the commands share
 *       ({@link io.valkeyk8s.reconciler.cluster.topology.ClusterOps}).
 * </ul>
 *
 * <p>Settings: {@link io.valkeyk8s.reconciler.core.Config} and its {@code Cluster} part
 * (VALKEY_CLUSTER_MASTERS, at least 3; VALKEY_CLUSTER_REPLICAS_PER_MASTER).
 */
package io.valkeyk8s.reconciler.cluster;
