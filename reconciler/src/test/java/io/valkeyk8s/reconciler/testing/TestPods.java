package io.valkeyk8s.reconciler.testing;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodIPBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Pods as a StatefulSet and a kubelet would leave them, written through the API: the object first,
 * then its status (phase Running, Ready, pod IP) through the status subresource.
 */
public final class TestPods {
  private static final AtomicInteger NAMESPACES = new AtomicInteger();

  /** The pods' subdomain: the StatefulSet's headless Service. */
  public static final String SUBDOMAIN = "valkey-headless";

  public static final Map<String, String> DATA_LABELS =
      Map.of(
          "app.kubernetes.io/name", "valkey",
          "app.kubernetes.io/instance", "valkey",
          "app.kubernetes.io/component", "valkey");

  private final KubernetesClient client;
  private final String namespace;

  public TestPods(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  /** Creates a fresh namespace (no namespace controller runs, so it is never reclaimed). */
  public static TestPods inNewNamespace(KubernetesClient client, String prefix) {
    String ns =
        prefix
            + "-"
            + NAMESPACES.incrementAndGet()
            + "-"
            + Long.toString(System.nanoTime() % 100000, 36);
    client
        .namespaces()
        .resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build())
        .create();
    return new TestPods(client, ns);
  }

  public String namespace() {
    return namespace;
  }

  /** Creates pod {@code name} of the set with IP {@code ip}, running and ready. */
  public Pod create(String name, String ip) {
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(namespace)
            .withLabels(DATA_LABELS)
            .endMetadata()
            .withNewSpec()
            // Scheduled, as a kubelet's pods are: deleting it then sets a grace period, not 0.
            .withNodeName("node-0")
            .withHostname(name)
            .withSubdomain(SUBDOMAIN)
            .addNewContainer()
            .withName("valkey")
            .withImage("valkey:test")
            .endContainer()
            .endSpec()
            .build();
    client.pods().inNamespace(namespace).resource(pod).create();
    return client
        .pods()
        .inNamespace(namespace)
        .withName(name)
        .editStatus(
            p ->
                new PodBuilder(p)
                    .editOrNewStatus()
                    .withPhase("Running")
                    .withPodIP(ip)
                    .withPodIPs(new PodIPBuilder().withIp(ip).build())
                    .withHostIP("127.0.0.1")
                    .withStartTime(Instant.now().toString())
                    .withConditions(
                        new PodConditionBuilder().withType("Ready").withStatus("True").build())
                    .endStatus()
                    .build());
  }

  /** Deletes the pod now (no kubelet: no grace period to wait for) and creates it again. */
  public Pod recreate(String name, String ip) throws InterruptedException {
    client.pods().inNamespace(namespace).withName(name).withGracePeriod(0).delete();
    while (client.pods().inNamespace(namespace).withName(name).get() != null) {
      Thread.sleep(20);
    }
    return create(name, ip);
  }

  public Pod get(String name) {
    return client.pods().inNamespace(namespace).withName(name).get();
  }
}
