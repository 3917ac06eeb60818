package io.valkeyk8s.reconciler.kube;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Instant;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Adds and removes one label on pods with JSON patches (never full updates) and records a
 * Kubernetes Event on each pod it changes. Each patch first tests the pod's UID, so a pod recreated
 * under the same name is never touched by a decision made about its predecessor; a removal also
 * tests the label's value, so removing an absent label is a no-op.
 */
public final class LabelWriter implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LabelWriter.class);

  private final KubernetesClient client;
  private final String namespace;
  private final String component;
  private final String instance;
  // Events are best effort and must never delay a label move.
  private final ExecutorService events =
      Executors.newSingleThreadExecutor(
          r -> Thread.ofPlatform().daemon().name("events").unstarted(r));

  public LabelWriter(KubernetesClient client, String namespace, String component, String instance) {
    this.client = client;
    this.namespace = namespace;
    this.component = component;
    this.instance = instance;
  }

  /** Removes the label; false when the pod no longer had it (or is another pod now). */
  public boolean remove(Pod pod, String name, String value, String reason, String message) {
    String path = "/metadata/labels/" + escape(name);
    String patch =
        "["
            + uidTest(pod)
            + ",{\"op\":\"test\",\"path\":\""
            + path
            + "\",\"value\":"
            + json(value)
            + "}"
            + ",{\"op\":\"remove\",\"path\":\""
            + path
            + "\"}]";
    if (!apply(pod, patch)) {
      return false;
    }
    event(pod, reason, message);
    return true;
  }

  /** Adds (or overwrites) the label; false when the pod is gone or was recreated. */
  public boolean add(Pod pod, String name, String value, String reason, String message) {
    boolean hasLabels =
        pod.getMetadata().getLabels() != null && !pod.getMetadata().getLabels().isEmpty();
    String op =
        hasLabels
            ? "{\"op\":\"add\",\"path\":\"/metadata/labels/"
                + escape(name)
                + "\",\"value\":"
                + json(value)
                + "}"
            : "{\"op\":\"add\",\"path\":\"/metadata/labels\",\"value\":{"
                + json(name)
                + ":"
                + json(value)
                + "}}";
    if (!apply(pod, "[" + uidTest(pod) + "," + op + "]")) {
      return false;
    }
    event(pod, reason, message);
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
            .withMessage(message)
            .withType("Normal")
            .withCount(1)
            .withFirstTimestamp(now.toString())
            .withLastTimestamp(now.toString())
            .withNewSource()
            .withComponent(component)
            .endSource()
            .withReportingComponent(component)
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

  private static String uidTest(Pod pod) {
    return "{\"op\":\"test\",\"path\":\"/metadata/uid\",\"value\":"
        + json(pod.getMetadata().getUid())
        + "}";
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
