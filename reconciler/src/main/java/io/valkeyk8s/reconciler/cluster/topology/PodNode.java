package io.valkeyk8s.reconciler.cluster.topology;

import io.valkeyk8s.reconciler.valkey.NodeClient;

/** A reachable pod, its node id and its own view of the cluster, taken at one moment. */
public record PodNode(ClusterPod pod, NodeClient client, ClusterView view) {

  public String id() {
    return view.myself().id();
  }

  public int ordinal() {
    return pod.ordinal();
  }

  public boolean isMaster() {
    return view.myself().isMaster();
  }

  public int slotCount() {
    return view.myself().slotCount();
  }

  public String describe() {
    return client.describe();
  }
}
