/**
 * The cluster as the commands and the healer read and change it: pods and nodes ({@link
 * io.valkeyk8s.reconciler.cluster.topology.ClusterPod}, {@link
 * io.valkeyk8s.reconciler.cluster.topology.PodNode}, {@link
 * io.valkeyk8s.reconciler.cluster.topology.ClusterView}, {@link
 * io.valkeyk8s.reconciler.cluster.topology.Snapshot}), the {@link
 * io.valkeyk8s.reconciler.cluster.topology.ShardLayout} agreed with the chart, slot moves and the
 * shared steps of {@link io.valkeyk8s.reconciler.cluster.topology.ClusterOps}.
 */
package io.valkeyk8s.reconciler.cluster.topology;
