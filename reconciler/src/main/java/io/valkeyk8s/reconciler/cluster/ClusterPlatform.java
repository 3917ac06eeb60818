package io.valkeyk8s.reconciler.cluster;

/** The pod side the cluster commands need: where the nodes are, and how to label them. */
public interface ClusterPlatform extends AutoCloseable {
  PodDirectory pods();

  RoleLabeler labeler();

  /** Calls back (without blocking) when a data pod changes; closed with the platform. */
  default void onPodChange(Runnable callback) {}

  @Override
  default void close() {}
}
