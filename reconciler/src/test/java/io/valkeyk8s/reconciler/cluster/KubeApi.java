package io.valkeyk8s.reconciler.cluster;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.valkeyk8s.testsupport.KubeApiServer;
import java.util.Map;

/**
 * Test fixture for cluster mode: the shared real kube-apiserver + etcd ({@link KubeApiServer}) with
 * the StatefulSet's pods created through the API, their status.podIP pointing at local Valkey
 * nodes.
 */
final class KubeApi implements AutoCloseable {
  static final String NAMESPACE = "valkey-it";
  static final String RELEASE = "valkey";
  static final String SELECTOR =
      "app.kubernetes.io/instance=" + RELEASE + ",app.kubernetes.io/component=valkey";

  private final KubeApiServer server;
  private final KubernetesClient client;

  KubeApi() {
    server = KubeApiServer.start();
    client = server.newClient();
    client
        .namespaces()
        .resource(
            new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
        .create();
  }

  KubernetesClient client() {
    return client;
  }

  /**
   * Creates pod valkey-<ordinal> if missing and sets its IP, like the kubelet reporting a
   * (re)started pod.
   */
  void pod(int ordinal, String ip) {
    pod(ordinal, ip, null);
  }

  /**
   * The same; with a subdomain the pod also gets its host name, which with the subdomain makes the
   * stable DNS name a StatefulSet's pod has (TLS certificates name it).
   */
  void pod(int ordinal, String ip, String subdomain) {
    String name = RELEASE + "-" + ordinal;
    Pod existing = client.pods().inNamespace(NAMESPACE).withName(name).get();
    if (existing == null) {
      existing =
          client
              .pods()
              .inNamespace(NAMESPACE)
              .resource(
                  new PodBuilder()
                      .withNewMetadata()
                      .withName(name)
                      .withLabels(
                          Map.of(
                              "app.kubernetes.io/name", "valkey",
                              "app.kubernetes.io/instance", RELEASE,
                              "app.kubernetes.io/component", "valkey"))
                      .endMetadata()
                      .withNewSpec()
                      .withHostname(subdomain == null ? null : name)
                      .withSubdomain(subdomain)
                      .addNewContainer()
                      .withName("valkey")
                      .withImage("valkey:test")
                      .endContainer()
                      .endSpec()
                      .build())
              .create();
    }
    // The healer patches labels concurrently: on a version conflict, read the pod again and retry.
    for (int attempt = 1; ; attempt++) {
      existing.setStatus(
          new io.fabric8.kubernetes.api.model.PodStatusBuilder()
              .withPhase("Running")
              .withPodIP(ip)
              .build());
      try {
        client.pods().inNamespace(NAMESPACE).resource(existing).updateStatus();
        return;
      } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == 10) {
          throw e;
        }
        existing = client.pods().inNamespace(NAMESPACE).withName(name).get();
      }
    }
  }

  void deletePod(int ordinal) {
    client
        .pods()
        .inNamespace(NAMESPACE)
        .withName(RELEASE + "-" + ordinal)
        .withGracePeriod(0)
        .delete();
  }

  Map<String, String> labels(int ordinal) {
    Pod pod = client.pods().inNamespace(NAMESPACE).withName(RELEASE + "-" + ordinal).get();
    return pod.getMetadata().getLabels();
  }

  static Map<String, String> env(int masters, int replicas, int port) {
    return Map.of(
        "VALKEY_CLUSTER_MASTERS",
        String.valueOf(masters),
        "VALKEY_CLUSTER_REPLICAS_PER_MASTER",
        String.valueOf(replicas),
        "VALKEY_PORT",
        String.valueOf(port),
        "POD_NAMESPACE",
        NAMESPACE,
        "VALKEY_POD_SELECTOR",
        SELECTOR,
        "RESYNC_SECONDS",
        "1",
        "HTTP_PORT",
        "0",
        "LEASE_NAME",
        "");
  }

  /** A client of this API server of its own; the caller closes it. */
  KubernetesClient newClient() {
    return server.newClient();
  }

  @Override
  public void close() {
    client.close();
    server.close();
  }
}
