package io.valkeyk8s.reconciler.cluster;

import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import io.valkeyk8s.reconciler.valkey.Address;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/** {@link ClusterPlatform} on the Kubernetes API through fabric8. */
public final class KubeClusterPlatform implements ClusterPlatform {
  private final KubernetesClient client;
  private final boolean ownsClient;
  private final KubePodDirectory pods;
  private final KubeRoleLabeler labeler;
  private final List<Watch> watches = new ArrayList<>();

  public KubeClusterPlatform(KubernetesClient client, ClusterSettings settings) {
    this(client, false, settings);
  }

  private KubeClusterPlatform(
      KubernetesClient client, boolean ownsClient, ClusterSettings settings) {
    this.client = client;
    this.ownsClient = ownsClient;
    this.pods =
        new KubePodDirectory(client, settings.namespace(), settings.podSelector(), settings.port());
    this.labeler = new KubeRoleLabeler(client, settings.namespace());
  }

  /** Connects with the in-cluster service account (or the kubeconfig outside a cluster). */
  public static KubeClusterPlatform connect(ClusterSettings settings) {
    return new KubeClusterPlatform(new KubernetesClientBuilder().build(), true, settings);
  }

  @Override
  public PodDirectory pods() {
    return pods;
  }

  @Override
  public RoleLabeler labeler() {
    return labeler;
  }

  @Override
  public void onPodChange(Runnable callback) {
    watches.add(pods.watch(callback));
  }

  @Override
  public void close() {
    watches.forEach(Watch::close);
    if (ownsClient) {
      client.close();
    }
  }

  /** Data pods by label selector; the address is the pod IP and the Valkey port. */
  static final class KubePodDirectory implements PodDirectory {
    private final KubernetesClient client;
    private final String namespace;
    private final String selector;
    private final int port;

    KubePodDirectory(KubernetesClient client, String namespace, String selector, int port) {
      this.client = client;
      this.namespace = namespace;
      this.selector = selector;
      this.port = port;
    }

    @Override
    public List<ClusterPod> pods() {
      List<ClusterPod> out = new ArrayList<>();
      for (Pod pod :
          client
              .pods()
              .inNamespace(namespace)
              .list(new ListOptionsBuilder().withLabelSelector(selector).build())
              .getItems()) {
        String name = pod.getMetadata().getName();
        int ordinal = ClusterPod.ordinalOf(name);
        if (ordinal < 0 || pod.getMetadata().getDeletionTimestamp() != null) {
          continue;
        }
        String ip = pod.getStatus() == null ? null : pod.getStatus().getPodIP();
        Map<String, String> labels =
            pod.getMetadata().getLabels() == null ? Map.of() : pod.getMetadata().getLabels();
        out.add(
            new ClusterPod(
                name,
                ordinal,
                ip == null || ip.isBlank() ? null : new Address(ip, port),
                labels.get(RoleLabeler.ROLE_LABEL),
                labels.get(RoleLabeler.SHARD_LABEL)));
      }
      out.sort(Comparator.comparingInt(ClusterPod::ordinal));
      return out;
    }

    Watch watch(Runnable callback) {
      return client
          .pods()
          .inNamespace(namespace)
          .withLabelSelector(selector)
          .watch(
              new Watcher<>() {
                @Override
                public void eventReceived(Action action, Pod resource) {
                  callback.run();
                }

                @Override
                public void onClose(WatcherException cause) {
                  // The periodic resync keeps working without the watch.
                }
              });
    }
  }
}
