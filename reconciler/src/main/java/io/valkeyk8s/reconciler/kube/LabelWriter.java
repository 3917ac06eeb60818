package io.valkeyk8s.reconciler.kube;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
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
 * decision made from a cache that lags behind is refused instead of applied twice. Adding a label
 * has no value to test, so the writer remembers the version of each pod it patched: the same copy
 * seen again (the cache has not yet caught up with the write) is refused the same way, and the
 * caller counts one move, not two.
 */
public final class LabelWriter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LabelWriter.class);
  private static final String COMPONENT = "valkey-reconciler";

  private final KubernetesClient client;
  private final String namespace;
  private final String instance;
  private final Set<String> owned;
  // pod UID -> the resourceVersion of the copy last patched (the newest few pods suffice).
  private final Map<String, String> patchedCopies =
      Collections.synchronizedMap(
          new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
              return size() > 64;
            }
          });
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
   * false when the pod is gone, was recreated, a label is no longer as seen, or this is a copy this
   * writer already patched (look again once the cache has caught up).
   */
  public boolean write(Pod seen, Map<String, String> labels, String reason, String message) {
    for (String name : labels.keySet()) {
      if (!owned.contains(name)) {
        throw new IllegalArgumentException("not a label this reconciler owns: " + name);
      }
    }
    Optional<String> patch = patch(seen, labels);
    if (patch.isEmpty()) {
      return true; // already as asked
    }
    String uid = seen.getMetadata().getUid();
    String version = seen.getMetadata().getResourceVersion();
    if (version != null && version.equals(patchedCopies.get(uid))) {
      return false; // a stale copy: the patch made from it went through already
    }
    if (!apply(seen, patch.get())) {
      return false;
    }
    if (version != null) {
      patchedCopies.put(uid, version);
    }
    event(seen, reason, message);
    return true;
  }

  /** The JSON patch that turns the seen pod's labels into these, or empty when they are. */
  static Optional<String> patch(Pod seen, Map<String, String> labels) {
    Map<String, String> before =
        seen.getMetadata().getLabels() == null ? Map.of() : seen.getMetadata().getLabels();
    ArrayNode patch = JsonNodeFactory.instance.arrayNode();
    patch.add(op("test", "/metadata/uid").put("value", seen.getMetadata().getUid()));
    ObjectNode added = JsonNodeFactory.instance.objectNode();
    for (Map.Entry<String, String> label : labels.entrySet()) {
      String old = before.get(label.getKey());
      String value = label.getValue();
      String path = "/metadata/labels/" + escape(label.getKey());
      if (Objects.equals(old, value)) {
        continue;
      } else if (old == null) {
        added.put(label.getKey(), value);
      } else {
        patch.add(op("test", path).put("value", old));
        patch.add(value == null ? op("remove", path) : op("replace", path).put("value", value));
      }
    }
    if (!added.isEmpty() && before.isEmpty()) {
      patch.add(op("add", "/metadata/labels").set("value", added));
    } else {
      added
          .properties()
          .forEach(
              e ->
                  patch.add(
                      op("add", "/metadata/labels/" + escape(e.getKey()))
                          .set("value", e.getValue())));
    }
    return patch.size() == 1 ? Optional.empty() : Optional.of(patch.toString());
  }

  private static ObjectNode op(String op, String path) {
    return JsonNodeFactory.instance.objectNode().put("op", op).put("path", path);
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

  /** JSON Pointer escaping of a label name ("/" in a prefixed name becomes "~1"). */
  static String escape(String name) {
    return name.replace("~", "~0").replace("/", "~1");
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
