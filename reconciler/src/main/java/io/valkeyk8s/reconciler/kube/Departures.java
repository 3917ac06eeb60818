package io.valkeyk8s.reconciler.kube;

import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which data pods are going away: terminating ones, and those a StatefulSet scaled down is about to
 * delete (ordinal at or above its replica count). A scale-down deletes its pods one API call after
 * the other, so the first deletion the reconciler sees does not yet show the others; the
 * StatefulSet's spec, changed before any deletion, does. Reading it needs {@code get} on that one
 * StatefulSet; without, only terminating pods count, said once in the log.
 *
 * <p>Also which pods a rolling update has yet to restart ({@link #restartRank}): a planned handover
 * prefers a replica the roll has already restarted, so the primary moves as few times as possible.
 */
public final class Departures {
  private static final Logger log = LoggerFactory.getLogger(Departures.class);

  /** The label the StatefulSet controller puts on each pod: the revision it was made from. */
  static final String REVISION_LABEL = "controller-revision-hash";

  private final KubernetesClient client;
  private final String namespace;
  private volatile boolean refusedLogged;

  public Departures(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  /** True when the pod is terminating (deletion requested). */
  public static boolean isTerminating(Pod pod) {
    return pod.getMetadata().getDeletionTimestamp() != null;
  }

  /**
   * The pods going away, decided now, from these pods (the pod cache's) and one read of each owning
   * StatefulSet.
   */
  public Predicate<Pod> now(Iterable<Pod> pods) {
    Map<String, Integer> replicas = new HashMap<>();
    for (Pod pod : pods) {
      owner(pod).ifPresent(set -> replicas.computeIfAbsent(set, this::replicasOf));
    }
    return pod -> {
      if (isTerminating(pod)) {
        return true;
      }
      Integer wanted = owner(pod).map(replicas::get).orElse(null);
      int ordinal = PodIndex.ordinalOf(pod.getMetadata().getName());
      return wanted != null && wanted >= 0 && ordinal >= wanted;
    };
  }

  /**
   * How soon a rolling update restarts each of these pods, from one read of each owning
   * StatefulSet: 0 for a pod on the update revision (or when no roll is going on, or the
   * StatefulSet cannot be read), otherwise 1 + its ordinal. The StatefulSet restarts pods from the
   * highest ordinal down, so a lower rank is a pod that stays up longer; a replica with the lowest
   * rank is the best successor of a primary the roll restarts.
   */
  public ToIntFunction<Pod> restartRank(Iterable<Pod> pods) {
    Map<String, String> updateRevision = new HashMap<>();
    for (Pod pod : pods) {
      owner(pod).ifPresent(set -> updateRevision.computeIfAbsent(set, this::updateRevisionOf));
    }
    return pod -> {
      String wanted = owner(pod).map(updateRevision::get).orElse("");
      String revision =
          pod.getMetadata().getLabels() == null
              ? null
              : pod.getMetadata().getLabels().get(REVISION_LABEL);
      if (wanted.isEmpty() || revision == null || revision.equals(wanted)) {
        return 0;
      }
      return 1 + Math.max(0, PodIndex.ordinalOf(pod.getMetadata().getName()));
    };
  }

  /** status.updateRevision of the StatefulSet, or "" when it cannot be read. */
  private String updateRevisionOf(String name) {
    try {
      StatefulSet set = client.apps().statefulSets().inNamespace(namespace).withName(name).get();
      if (set == null || set.getStatus() == null || set.getStatus().getUpdateRevision() == null) {
        return "";
      }
      return set.getStatus().getUpdateRevision();
    } catch (KubernetesClientException e) {
      return ""; // logged once by replicasOf, which the same handover calls first
    }
  }

  private static Optional<String> owner(Pod pod) {
    if (pod.getMetadata().getOwnerReferences() == null) {
      return Optional.empty();
    }
    return pod.getMetadata().getOwnerReferences().stream()
        .filter(r -> "StatefulSet".equals(r.getKind()) && Boolean.TRUE.equals(r.getController()))
        .map(OwnerReference::getName)
        .findFirst();
  }

  /** spec.replicas of the StatefulSet, or -1 when it cannot be read. */
  private int replicasOf(String name) {
    try {
      StatefulSet set = client.apps().statefulSets().inNamespace(namespace).withName(name).get();
      if (set == null || set.getSpec() == null || set.getSpec().getReplicas() == null) {
        return -1;
      }
      return set.getSpec().getReplicas();
    } catch (KubernetesClientException e) {
      if (!refusedLogged) {
        refusedLogged = true;
        log.warn(
            "action=statefulset-unreadable statefulset={} code={} reason=\"only terminating pods count as departing: {}\"",
            name,
            e.getCode(),
            e.getMessage());
      }
      return -1;
    }
  }
}
