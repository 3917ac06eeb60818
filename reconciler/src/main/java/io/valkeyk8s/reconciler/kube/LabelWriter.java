package io.valkeyk8s.reconciler.kube;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the labels this reconciler owns on pods (the primary label; valkey-role and valkey-shard)
 * with JSON patches, never full updates, and records a Kubernetes Event on each pod it changes.
 * Each patch first tests the pod's UID, so a pod recreated under the same name is never touched by
 * a decision made about its predecessor, and every label's value as the caller saw it, so a
 * decision made from a cache that lags behind is refused instead of applied twice.
 */
public final class LabelWriter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LabelWriter.class);
  private static final String COMPONENT = "valkey-reconciler";

  private final KubernetesClient client;
  private final String namespace;
  private final String instance;
  private final Set<String> owned;
  // Events are best effort and must never delay a label move.
  private final ExecutorService events =
      Executors.newSingleThreadExecutor(
          r -> Thread.ofPlatform().daemon().name("events").unstarted(r));

  /**
   * @param instance this replica's name, the Events' reporting instance
   * @param owned the only labels it may write
   */
  public LabelWriter(
      KubernetesClient client, String namespace, String instance, Set<String> owned) {
    this.client = client;
    this.namespace = namespace;
    this.instance = instance;
    this.owned = Set.copyOf(owned);
  }

  /**
   * Sets the labels to these values on the pod as the caller saw it (a null value removes the
   * label), then records the Event. True when the pod now carries them (also when it already did);
   * false when the pod is gone, was recreated, or a label is no longer as seen.
   */
  public boolean write(Pod seen, Map<String, String> labels, String reason, String message) {
    Map<String, String> before =
        seen.getMetadata().getLabels() == null ? Map.of() : seen.getMetadata().getLabels();
    List<String> ops = new ArrayList<>();
    ops.add(test("/metadata/uid", seen.getMetadata().getUid()));
    Map<String, String> added = new LinkedHashMap<>();
    for (Map.Entry<String, String> label : labels.entrySet()) {
      if (!owned.contains(label.getKey())) {
        throw new IllegalArgumentException("not a label this reconciler owns: " + label.getKey());
      }
      String old = before.get(label.getKey());
      String value = label.getValue();
      if (Objects.equals(old, value)) {
        continue;
      }
      String path = "/metadata/labels/" + escape(label.getKey());
      if (old != null) {
        ops.add(test(path, old));
        ops.add(
            value == null
                ? "{\"op\":\"remove\",\"path\":\"" + path + "\"}"
                : "{\"op\":\"replace\",\"path\":\"" + path + "\",\"value\":" + json(value) + "}");
      } else if (value != null) {
        added.put(label.getKey(), value);
      }
    }
    if (!added.isEmpty()) {
      if (before.isEmpty()) {
        StringBuilder object = new StringBuilder("{");
        added.forEach(
            (k, v) ->
                object
                    .append(object.length() > 1 ? "," : "")
                    .append(json(k))
                    .append(':')
                    .append(json(v)));
        ops.add("{\"op\":\"add\",\"path\":\"/metadata/labels\",\"value\":" + object + "}}");
      } else {
        added.forEach(
            (k, v) ->
                ops.add(
                    "{\"op\":\"add\",\"path\":\"/metadata/labels/"
                        + escape(k)
                        + "\",\"value\":"
                        + json(v)
                        + "}"));
      }
    }
    if (ops.size() == 1) {
      return true; // already as asked
    }
    if (!apply(seen, "[" + String.join(",", ops) + "]")) {
      return false;
    }
    event(seen, reason, message);
    return true;
  }

  private boolean apply(Pod pod, String patch) {
    try {
      client
          .pods()
          .inNamespace(namespace)
          .withName(pod.getMetadata().getName())
          .patch(PatchContext.of(PatchType.JSON), patch);
      return true;
    } catch (KubernetesClientException e) {
      // 404: gone; 422: a test failed (other UID, or label already absent).
      if (e.getCode() == 404 || e.getCode() == 422) {
        return false;
      }
      throw e;
    }
  }

  private void event(Pod pod, String reason, String message) {
    Instant now = Instant.now();
    var event =
        new EventBuilder()
            .withNewMetadata()
            .withGenerateName(pod.getMetadata().getName() + ".")
            .withNamespace(namespace)
            .endMetadata()
            .withInvolvedObject(
                new ObjectReferenceBuilder()
                    .withApiVersion("v1")
                    .withKind("Pod")
                    .withNamespace(namespace)
                    .withName(pod.getMetadata().getName())
                    .withUid(pod.getMetadata().getUid())
                    .build())
            .withReason(reason)
            .withMessage(message.length() > 1000 ? message.substring(0, 1000) : message)
            .withType("Normal")
            .withCount(1)
            .withFirstTimestamp(now.toString())
            .withLastTimestamp(now.toString())
            .withNewSource()
            .withComponent(COMPONENT)
            .endSource()
            .withReportingComponent(COMPONENT)
            .withReportingInstance(instance)
            .build();
    try {
      events.execute(
          () -> {
            try {
              client.v1().events().inNamespace(namespace).resource(event).create();
            } catch (RuntimeException e) {
              log.warn(
                  "action=event-failed pod={} reason={} error=\"{}\"",
                  pod.getMetadata().getName(),
                  reason,
                  e.getMessage());
            }
          });
    } catch (java.util.concurrent.RejectedExecutionException closed) {
      // shutting down
    }
  }

  private static String test(String path, String value) {
    return "{\"op\":\"test\",\"path\":\"" + path + "\",\"value\":" + json(value) + "}";
  }

  /** JSON Pointer escaping of a label name ("/" in a prefixed name becomes "~1"). */
  static String escape(String name) {
    return name.replace("~", "~0").replace("/", "~1");
  }

  private static String json(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }

  @Override
  public void close() {
    events.shutdown();
    try {
      events.awaitTermination(2, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
