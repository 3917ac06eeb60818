package io.valkeyk8s.reconciler.cluster;

import io.valkeyk8s.reconciler.core.StepFailedException;
import io.valkeyk8s.reconciler.valkey.Address;
import io.valkeyk8s.reconciler.valkey.NodeClient;
import io.valkeyk8s.reconciler.valkey.NodeClients;

/**
 * One data pod as the cluster commands see it.
 *
 * @param address null while the pod has no IP yet
 * @param roleLabel current value of {@value RoleLabeler#ROLE_LABEL}, null when absent
 * @param shardLabel current value of {@value RoleLabeler#SHARD_LABEL}, null when absent
 */
public record ClusterPod(
    String name, int ordinal, Address address, String roleLabel, String shardLabel) {

  /** Ordinal of a StatefulSet pod name ({@code <set>-<n>}), or -1 when the name has none. */
  public static int ordinalOf(String podName) {
    int dash = podName.lastIndexOf('-');
    if (dash < 0 || dash == podName.length() - 1) {
      return -1;
    }
    try {
      return Integer.parseInt(podName.substring(dash + 1));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * The pod's node, whose failures name the step and the pod; a pod without an IP yet fails the
   * step.
   */
  public static NodeClient node(NodeClients clients, String step, ClusterPod pod) {
    if (pod.address() == null) {
      throw new StepFailedException(step, pod.name(), "the pod has no IP yet");
    }
    return clients.at(pod.address(), pod.name()).step(step);
  }

  @Override
  public String toString() {
    return name + (address == null ? " (no IP)" : " (" + address + ")");
  }
}
