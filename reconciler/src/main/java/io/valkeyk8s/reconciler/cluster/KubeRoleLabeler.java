package io.valkeyk8s.reconciler.cluster;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

/**
 * Patches only the two labels it owns (JSON merge patch) and records a Kubernetes Event on the pod.
 */
final class KubeRoleLabeler implements RoleLabeler {
  private final KubernetesClient client;
  private final String namespace;

  KubeRoleLabeler(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  @Override
  public void label(ClusterPod pod, String role, String shard, String reason) {
    String patch =
        "{\"metadata\":{\"labels\":{\""
            + ROLE_LABEL
            + "\":"
            + json(role)
            + ",\""
            + SHARD_LABEL
            + "\":"
            + json(shard)
            + "}}}";
    Pod patched =
        client
            .pods()
            .inNamespace(namespace)
            .withName(pod.name())
            .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
    String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    String message =
        ROLE_LABEL
            + " "
            + pod.roleLabel()
            + " -> "
            + role
            + ", "
            + SHARD_LABEL
            + " "
            + pod.shardLabel()
            + " -> "
            + shard
            + ": "
            + reason;
    client
        .v1()
        .events()
        .inNamespace(namespace)
        .resource(
            new EventBuilder()
                .withNewMetadata()
                .withName(pod.name() + "." + UUID.randomUUID().toString().substring(0, 8))
                .withNamespace(namespace)
                .endMetadata()
                .withInvolvedObject(
                    new ObjectReferenceBuilder()
                        .withKind("Pod")
                        .withApiVersion("v1")
                        .withNamespace(namespace)
                        .withName(pod.name())
                        .withUid(patched.getMetadata().getUid())
                        .build())
                .withReason(role == null ? "ClusterRoleUnknown" : "ClusterRoleChanged")
                .withMessage(message.length() > 1000 ? message.substring(0, 1000) : message)
                .withType("Normal")
                .withFirstTimestamp(now)
                .withLastTimestamp(now)
                .withCount(1)
                .withNewSource()
                .withComponent("valkey-reconciler")
                .endSource()
                .build())
        .create();
  }

  private static String json(String value) {
    return value == null ? "null" : "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
