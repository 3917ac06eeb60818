/**
 * Valkey Cluster mode: form, scale and heal a sharded cluster from a StatefulSet's pods.
 *
 * <p>Commands (picocli, each a {@code Callable<Integer>}; Main adds them as subcommands): {@link
 * io.valkeyk8s.reconciler.cluster.InitCommand} ({@code init}), {@link
 * io.valkeyk8s.reconciler.cluster.ScaleUpCommand} ({@code scale-up}), {@link
 * io.valkeyk8s.reconciler.cluster.ScaleDownCommand} ({@code scale-down}): one-shot, idempotent,
 * exit 0 done, 1 a step failed (one line "error: CMD: step 'S' failed on POD (IP:PORT): cause"), 2
 * bad settings. {@link io.valkeyk8s.reconciler.cluster.HealCommand} ({@code cluster}): the
 * long-running healer; runs until its thread is interrupted.
 *
 * <p>Settings come from the environment ({@link io.valkeyk8s.reconciler.cluster.ClusterSettings}):
 * VALKEY_CLUSTER_MASTERS (required, at least 3), VALKEY_CLUSTER_REPLICAS_PER_MASTER (0),
 * VALKEY_PORT (6379), VALKEY_USERNAME (admin), VALKEY_PASSWORD, POD_NAMESPACE (default),
 * VALKEY_POD_SELECTOR (app.kubernetes.io/component=valkey), RESYNC_SECONDS (10).
 *
 * <p>Layers, top to bottom: commands; {@code ClusterInit}, {@code ClusterScaleUp}, {@code
 * ClusterScaleDown}, {@code ClusterHealer}/{@code HealLoop}; {@code ClusterOps}, {@code
 * SlotMigrator}, {@code OpenSlotRepair}, {@code SlotBalancer}; {@code Snapshot}, {@code
 * ClusterView}, {@code NodeClient(s)}; and the pod side behind {@link
 * io.valkeyk8s.reconciler.cluster.PodDirectory} and {@link
 * io.valkeyk8s.reconciler.cluster.RoleLabeler} ({@code KubeClusterPlatform} implements both with
 * fabric8).
 */
package io.valkeyk8s.reconciler.cluster;
