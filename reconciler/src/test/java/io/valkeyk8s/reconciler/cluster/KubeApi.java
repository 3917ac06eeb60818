package io.valkeyk8s.reconciler.cluster;

import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.util.Map;

/**
 * Test fixture: a real kube-apiserver + etcd (fabric8 kube-api-test, offline binaries under
 * $KUBE_API_TEST_DIR) and pods created through the API whose status.podIP points at local Valkey nodes.
 */
final class KubeApi implements AutoCloseable {
  static final String NAMESPACE = "valkey-it";
  static final String RELEASE = "valkey";
  static final String SELECTOR = "app.kubernetes.io/instance=" + RELEASE + ",app.kubernetes.io/component=valkey";

  private final KubeAPIServer server;
  private final KubernetesClient client;

  KubeApi() {
    String dir = System.getenv("KUBE_API_TEST_DIR");
    KubeAPIServerConfigBuilder config = KubeAPIServerConfigBuilder.anAPIServerConfig()
        .withOfflineMode(true).withApiServerVersion("1.34.4").withUpdateKubeConfig(false);
    if (dir != null && !dir.isBlank()) {
      config.withTestDir(dir);
    }
    server = new KubeAPIServer(config.build());
    server.start();
    client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(server.getKubeConfigYaml())).build();
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
        .create();
  }

  KubernetesClient client() {
    return client;
  }

  /** Creates pod valkey-<ordinal> if missing and sets its IP, like the kubelet reporting a (re)started pod. */
  void pod(int ordinal, String ip) {
    String name = RELEASE + "-" + ordinal;
    Pod existing = client.pods().inNamespace(NAMESPACE).withName(name).get();
    if (existing == null) {
      existing = client.pods().inNamespace(NAMESPACE).resource(new PodBuilder()
          .withNewMetadata().withName(name).withLabels(Map.of(
              "app.kubernetes.io/name", "valkey",
              "app.kubernetes.io/instance", RELEASE,
              "app.kubernetes.io/component", "valkey")).endMetadata()
          .withNewSpec().addNewContainer().withName("valkey").withImage("valkey:test").endContainer().endSpec()
          .build()).create();
    }
    existing.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase("Running").withPodIP(ip)
        .build());
    client.pods().inNamespace(NAMESPACE).resource(existing).updateStatus();
  }

  void deletePod(int ordinal) {
    client.pods().inNamespace(NAMESPACE).withName(RELEASE + "-" + ordinal).withGracePeriod(0).delete();
  }

  Map<String, String> labels(int ordinal) {
    Pod pod = client.pods().inNamespace(NAMESPACE).withName(RELEASE + "-" + ordinal).get();
    return pod.getMetadata().getLabels();
  }

  ClusterSettings settings(int masters, int replicas, int port) {
    return ClusterSettings.fromEnv(env(masters, replicas, port));
  }

  static Map<String, String> env(int masters, int replicas, int port) {
    return Map.of(
        "VALKEY_CLUSTER_MASTERS", String.valueOf(masters),
        "VALKEY_CLUSTER_REPLICAS_PER_MASTER", String.valueOf(replicas),
        "VALKEY_PORT", String.valueOf(port),
        "POD_NAMESPACE", NAMESPACE,
        "VALKEY_POD_SELECTOR", SELECTOR,
        "RESYNC_SECONDS", "1");
  }

  /** A platform on this API server that leaves the shared client open. */
  ClusterPlatform platform(ClusterSettings settings) {
    return new KubeClusterPlatform(client, settings);
  }

  @Override
  public void close() {
    client.close();
    server.stop();
  }
}
