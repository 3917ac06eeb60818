package io.valkeyk8s.testserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.valkeyk8s.testsupport.KubeApiServer;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * k8s/test-server.yaml against a real kube-apiserver: the objects pass server-side validation and
 * the Pod passes the PodSecurity admission in a namespace that enforces {@code restricted}, also
 * with k8s/test-server-tls.patch.yaml merged in.
 */
class ManifestAdmissionIT {
  private static final String NAMESPACE = "restricted";
  private static KubeApiServer apiServer;
  private static KubernetesClient client;

  @BeforeAll
  static void startApiServer() {
    apiServer = KubeApiServer.start();
    client = apiServer.newClient();
    client
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(NAMESPACE)
                .addToLabels("pod-security.kubernetes.io/enforce", "restricted")
                .addToLabels("pod-security.kubernetes.io/enforce-version", "latest")
                .endMetadata()
                .build())
        .create();
  }

  @AfterAll
  static void stopApiServer() {
    if (client != null) {
      client.close();
    }
    if (apiServer != null) {
      apiServer.close();
    }
  }

  private static List<HasMetadata> manifest() throws IOException {
    try (InputStream in = new FileInputStream("k8s/test-server.yaml")) {
      return client.load(in).items();
    }
  }

  /** A Pod made from the Deployment's template, as the ReplicaSet controller would. */
  private static Pod podOf(Deployment deployment, String name) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withLabels(deployment.getSpec().getTemplate().getMetadata().getLabels())
        .endMetadata()
        .withSpec(deployment.getSpec().getTemplate().getSpec())
        .build();
  }

  @Test
  void manifestIsAcceptedAndItsPodPassesRestrictedPodSecurity() throws IOException {
    List<HasMetadata> objects = manifest();
    assertThat(objects).extracting(HasMetadata::getKind).containsExactly("Deployment", "Service");

    client.resourceList(objects).inNamespace(NAMESPACE).create();
    Pod created =
        client
            .pods()
            .inNamespace(NAMESPACE)
            .resource(podOf((Deployment) objects.get(0), "test-server"))
            .create();

    assertThat(created.getMetadata().getUid()).isNotBlank();
  }

  @Test
  void theTlsPatchMergesAndThePatchedPodStillPassesRestrictedPodSecurity() throws IOException {
    String namespace = "restricted-tls";
    client
        .namespaces()
        .resource(
            new NamespaceBuilder()
                .withNewMetadata()
                .withName(namespace)
                .addToLabels("pod-security.kubernetes.io/enforce", "restricted")
                .endMetadata()
                .build())
        .create();
    client.resourceList(manifest()).inNamespace(namespace).create();

    // What `kubectl patch --patch-file k8s/test-server-tls.patch.yaml` sends.
    Deployment patched =
        client
            .apps()
            .deployments()
            .inNamespace(namespace)
            .withName("valkey-test-server")
            .patch(
                PatchContext.of(PatchType.STRATEGIC_MERGE),
                Files.readString(Path.of("k8s/test-server-tls.patch.yaml")));
    Pod created =
        client.pods().inNamespace(namespace).resource(podOf(patched, "test-server-tls")).create();

    var container = created.getSpec().getContainers().getFirst();
    assertThat(container.getEnv())
        .extracting(EnvVar::getName)
        .contains("VALKEY_PASSWORD", "VALKEY_TLS", "VALKEY_TLS_CA_FILE", "VALKEY_TLS_KEY_FILE");
    assertThat(container.getVolumeMounts())
        .extracting(VolumeMount::getMountPath)
        .containsExactlyInAnyOrder("/tmp", "/etc/valkey-tls");
    assertThat(created.getSpec().getVolumes())
        .extracting(Volume::getName)
        .containsExactlyInAnyOrder("tmp", "valkey-tls");
  }

  @Test
  void theSameNamespaceRejectsAPodThatMayEscalatePrivileges() throws IOException {
    Pod pod = podOf((Deployment) manifest().get(0), "escalating");
    pod.getSpec().getContainers().get(0).getSecurityContext().setAllowPrivilegeEscalation(true);

    assertThatThrownBy(() -> client.pods().inNamespace(NAMESPACE).resource(pod).create())
        .isInstanceOf(KubernetesClientException.class)
        .hasMessageContaining("violates PodSecurity \"restricted:latest\"");
  }
}
