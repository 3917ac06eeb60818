package io.valkeyk8s.reconciler.cluster.topology;

import io.fabric8.kubernetes.api.model.Pod;
import io.valkeyk8s.reconciler.core.StepFailedException;
import io.valkeyk8s.reconciler.kube.PodIndex;
import io.valkeyk8s.reconciler.valkey.Address;
import io.valkeyk8s.reconciler.valkey.NodeClient;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import java.util.List;

/**
 * One data pod of the StatefulSet as the cluster code sees it.
 *
 * @param pod the pod as the cache last saw it
 * @param ordinal its StatefulSet ordinal
 * @param address its pod IP and the Valkey port; null while the pod has no IP yet
 */
public record ClusterPod(Pod pod, int ordinal, Address address) {

  /** The pods that are not being deleted, lowest ordinal first. */
  public static List<ClusterPod> of(PodIndex pods, int port) {
    return pods.byOrdinal().stream()
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .map(
            p -> {
              String ip = p.getStatus() == null ? null : p.getStatus().getPodIP();
              return new ClusterPod(
                  p,
                  PodIndex.ordinalOf(p.getMetadata().getName()),
                  ip == null || ip.isBlank() ? null : new Address(ip, port));
            })
        .toList();
  }

  public String name() {
    return pod.getMetadata().getName();
  }

  /** The current value of one of the pod's labels, null when absent. */
  public String label(String name) {
    var labels = pod.getMetadata().getLabels();
    return labels == null ? null : labels.get(name);
  }

  /**
   * The pod's node, whose failures name the step and the pod; a pod without an IP yet fails the
   * step.
   */
  public NodeClient node(NodeClients clients, String step) {
    if (address == null) {
      throw new StepFailedException(step, name(), "the pod has no IP yet");
    }
    return clients.at(address, name()).step(step);
  }

  @Override
  public String toString() {
    return name() + (address == null ? " (no IP)" : " (" + address + ")");
  }
}
