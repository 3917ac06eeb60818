package io.valkeyk8s.reconciler.testing;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodIPBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.util.List;
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
  private volatile StatefulSet owner;

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

  /**
   * A StatefulSet object that owns the pods created after it. No controller runs: it only carries
   * spec.replicas, which {@link #scale} changes as {@code helm upgrade} would.
   */
  public StatefulSet statefulSet(String name, int replicas) {
    StatefulSet set =
        new StatefulSetBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(namespace)
            .endMetadata()
            .withNewSpec()
            .withReplicas(replicas)
            .withServiceName(name + "-headless")
            .withNewSelector()
            .withMatchLabels(DATA_LABELS)
            .endSelector()
            .withNewTemplate()
            .withNewMetadata()
            .withLabels(DATA_LABELS)
            .endMetadata()
            .withNewSpec()
            .addNewContainer()
            .withName("valkey")
            .withImage("valkey:test")
            .endContainer()
            .endSpec()
            .endTemplate()
            .endSpec()
            .build();
    owner = client.apps().statefulSets().inNamespace(namespace).resource(set).create();
    return owner;
  }

  /** Sets spec.replicas of the StatefulSet made by {@link #statefulSet}. */
  public void scale(int replicas) {
    client
        .apps()
        .statefulSets()
        .inNamespace(namespace)
        .withName(owner.getMetadata().getName())
        .edit(s -> new StatefulSetBuilder(s).editSpec().withReplicas(replicas).endSpec().build());
  }

  /**
   * A rolling update as the reconciler can see it: every pod of the set labelled with the revision
   * it was made from ({@code controller-revision-hash}), the StatefulSet's status naming the
   * revision it updates to. No controller restarts anything.
   */
  public void rollingUpdate(String podsRevision, String updateRevision) {
    for (Pod pod : client.pods().inNamespace(namespace).withLabels(DATA_LABELS).list().getItems()) {
      madeFrom(pod.getMetadata().getName(), podsRevision);
    }
    client
        .apps()
        .statefulSets()
        .inNamespace(namespace)
        .withName(owner.getMetadata().getName())
        .editStatus(
            s ->
                new StatefulSetBuilder(s)
                    .withNewStatus()
                    .withReplicas(s.getSpec().getReplicas())
                    .withCurrentRevision(podsRevision)
                    .withUpdateRevision(updateRevision)
                    .endStatus()
                    .build());
  }

  /** Labels one pod with the revision it was made from: the roll has restarted it already. */
  public void madeFrom(String name, String revision) {
    client
        .pods()
        .inNamespace(namespace)
        .withName(name)
        .edit(
            p ->
                new PodBuilder(p)
                    .editMetadata()
                    .addToLabels("controller-revision-hash", revision)
                    .endMetadata()
                    .build());
  }

  /** Creates pod {@code name} of the set with IP {@code ip}, running and ready. */
  public Pod create(String name, String ip) {
    StatefulSet set = owner;
    Pod pod =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .withNamespace(namespace)
            .withLabels(DATA_LABELS)
            .withOwnerReferences(
                set == null
                    ? List.of()
                    : List.of(
                        new OwnerReferenceBuilder()
                            .withApiVersion("apps/v1")
                            .withKind("StatefulSet")
                            .withName(set.getMetadata().getName())
                            .withUid(set.getMetadata().getUid())
                            .withController(true)
                            .build()))
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

  /** Writes the valkey container's status as running under this container ID. */
  public Pod containerRunning(String name, String containerId, int restartCount) {
    return writeContainerStatus(name, containerRunningStatus(containerId, restartCount));
  }

  /** Writes the valkey container's status as a kubelet does when its process died (kill -9). */
  public Pod containerTerminated(String name, String containerId, int restartCount) {
    return writeContainerStatus(
        name,
        new ContainerStatusBuilder()
            .withName("valkey")
            .withImage("valkey:test")
            .withImageID("valkey:test")
            .withContainerID(containerId)
            .withRestartCount(restartCount)
            .withReady(false)
            .withStarted(false)
            .withNewState()
            .withNewTerminated()
            .withContainerID(containerId)
            .withExitCode(137)
            .withReason("Error")
            .withFinishedAt(Instant.now().toString())
            .endTerminated()
            .endState()
            .build());
  }

  /**
   * Writes the valkey container's status as a kubelet does once it restarted a dead container: a
   * new container running, the dead one in lastState.
   */
  public Pod containerRestarted(String name, String oldId, String newId, int restartCount) {
    ContainerStatus running = containerRunningStatus(newId, restartCount);
    return writeContainerStatus(
        name,
        new ContainerStatusBuilder(running)
            .withNewLastState()
            .withNewTerminated()
            .withContainerID(oldId)
            .withExitCode(137)
            .withReason("Error")
            .withFinishedAt(Instant.now().toString())
            .endTerminated()
            .endLastState()
            .build());
  }

  private static ContainerStatus containerRunningStatus(String containerId, int restartCount) {
    return new ContainerStatusBuilder()
        .withName("valkey")
        .withImage("valkey:test")
        .withImageID("valkey:test")
        .withContainerID(containerId)
        .withRestartCount(restartCount)
        .withReady(true)
        .withStarted(true)
        .withNewState()
        .withNewRunning()
        .withStartedAt(Instant.now().toString())
        .endRunning()
        .endState()
        .build();
  }

  private Pod writeContainerStatus(String name, ContainerStatus status) {
    return client
        .pods()
        .inNamespace(namespace)
        .withName(name)
        .editStatus(
            p ->
                new PodBuilder(p)
                    .editOrNewStatus()
                    .withContainerStatuses(status)
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
