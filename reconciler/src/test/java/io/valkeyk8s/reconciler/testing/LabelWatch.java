package io.valkeyk8s.reconciler.testing;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Watches the pods of a namespace and records, event by event, which carry a label: the largest
 * number of pods labelled at the same time, each violation, and when each pod was last seen to gain
 * the label (the moment a client of the API would see the change).
 */
public final class LabelWatch implements AutoCloseable {
  private final String label;
  private final String value;
  private final SharedIndexInformer<Pod> informer;
  private final Map<String, Boolean> labelled = new ConcurrentHashMap<>();
  private final Map<String, Long> labelledAtNanos = new ConcurrentHashMap<>();
  private final List<String> violations = java.util.Collections.synchronizedList(new ArrayList<>());
  private volatile int maxLabelled;

  public LabelWatch(KubernetesClient client, String namespace, String label, String value) {
    this.label = label;
    this.value = value;
    informer =
        client
            .pods()
            .inNamespace(namespace)
            .inform(
                new ResourceEventHandler<>() {
                  @Override
                  public void onAdd(Pod pod) {
                    record(pod, hasLabel(pod));
                  }

                  @Override
                  public void onUpdate(Pod before, Pod after) {
                    record(after, hasLabel(after));
                  }

                  @Override
                  public void onDelete(Pod pod, boolean finalStateUnknown) {
                    record(pod, false);
                  }
                },
                0);
  }

  private boolean hasLabel(Pod pod) {
    Map<String, String> l = pod.getMetadata().getLabels();
    return l != null && value.equals(l.get(label));
  }

  private synchronized void record(Pod pod, boolean now) {
    String name = pod.getMetadata().getName();
    Boolean before = labelled.put(name, now);
    if (now && !Boolean.TRUE.equals(before)) {
      labelledAtNanos.put(name, System.nanoTime());
    }
    List<String> holders =
        labelled.entrySet().stream()
            .filter(Map.Entry::getValue)
            .map(Map.Entry::getKey)
            .sorted()
            .toList();
    maxLabelled = Math.max(maxLabelled, holders.size());
    if (holders.size() > 1) {
      violations.add("labelled at once: " + holders);
    }
  }

  /** The one labelled pod, if exactly one is labelled. */
  public synchronized Optional<String> labelledPod() {
    List<String> holders =
        labelled.entrySet().stream().filter(Map.Entry::getValue).map(Map.Entry::getKey).toList();
    return holders.size() == 1 ? Optional.of(holders.get(0)) : Optional.empty();
  }

  public synchronized List<String> labelledPods() {
    return labelled.entrySet().stream()
        .filter(Map.Entry::getValue)
        .map(Map.Entry::getKey)
        .sorted()
        .toList();
  }

  /** When the pod was last seen to gain the label (System.nanoTime), if it has it. */
  public Optional<Long> labelledAt(String pod) {
    return Boolean.TRUE.equals(labelled.get(pod))
        ? Optional.ofNullable(labelledAtNanos.get(pod))
        : Optional.empty();
  }

  public int maxLabelled() {
    return maxLabelled;
  }

  public List<String> violations() {
    synchronized (violations) {
      return List.copyOf(violations);
    }
  }

  @Override
  public void close() {
    informer.close();
  }
}
