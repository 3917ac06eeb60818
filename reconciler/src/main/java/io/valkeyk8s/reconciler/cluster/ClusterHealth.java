package io.valkeyk8s.reconciler.cluster;

/** What the health server asks the cluster healer. */
public interface ClusterHealth {
  /** Liveness: the loop runs and its last pass ended recently. */
  boolean alive();

  /** Readiness: the last pass completed and the cluster said ok. */
  boolean ready();
}
