package io.valkeyk8s.reconciler.kube;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data pods, from an informer cache (list once, then watch; relists after a lost watch): by
 * name, by the address Valkey or Sentinel announce for them, by StatefulSet ordinal. Every change
 * only calls {@code onChange}, which should enqueue a reconcile. Cached pods must not be modified.
 */
public final class PodIndex implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PodIndex.class);

  private final SharedIndexInformer<Pod> informer;

  public PodIndex(
      KubernetesClient client, String namespace, Map<String, String> selector, Runnable onChange) {
    informer = client.pods().inNamespace(namespace).withLabels(selector).runnableInformer(0);
    informer.addEventHandler(
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(Pod pod) {
            onChange.run();
          }

          @Override
          public void onUpdate(Pod before, Pod after) {
            onChange.run();
          }

          @Override
          public void onDelete(Pod pod, boolean finalStateUnknown) {
            onChange.run();
          }
        });
    // Keep retrying when the API server is unreachable, also before the first sync.
    informer.exceptionHandler(
        (started, error) -> {
          log.warn("action=informer-retry started={} error=\"{}\"", started, error.getMessage());
          return true;
        });
  }

  /** Starts listing and watching; does not wait for the first list. */
  public void start() {
    informer.start();
  }

  /** Starts and waits until the first list is in the cache; false when it is not by then. */
  public boolean startAndAwaitSync(Duration timeout) throws InterruptedException {
    try {
      informer.start().toCompletableFuture().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException | ExecutionException e) {
      return hasSynced();
    }
  }

  public boolean hasSynced() {
    return informer.hasSynced();
  }

  /** True while the informer runs and its watch is connected (the cache is current). */
  public boolean isWatching() {
    return informer.isRunning() && informer.isWatching();
  }

  public List<Pod> pods() {
    return informer.getStore().list();
  }

  public Optional<Pod> byAddress(String host) {
    return pods().stream().filter(p -> PodAddresses.matches(p, host)).findFirst();
  }

  /** The stable DNS name of the pod at this IP (see {@link PodAddresses#stableName}). */
  public Optional<String> stableNameOf(String ip, String clusterDomain) {
    return byAddress(ip).flatMap(p -> PodAddresses.stableName(p, clusterDomain));
  }

  /** The IP of the pod a host name (or stable DNS name) belongs to, as this cache knows it. */
  public Optional<String> ipOf(String host) {
    return byAddress(host)
        .map(p -> p.getStatus() == null ? null : p.getStatus().getPodIP())
        .filter(ip -> !ip.isBlank());
  }

  public Optional<Pod> byName(String name) {
    return pods().stream().filter(p -> p.getMetadata().getName().equals(name)).findFirst();
  }

  /** The pods of a StatefulSet ({@code <set>-<ordinal>}), lowest ordinal first. */
  public List<Pod> byOrdinal() {
    return pods().stream()
        .filter(p -> ordinalOf(p.getMetadata().getName()) >= 0)
        .sorted(Comparator.comparingInt(p -> ordinalOf(p.getMetadata().getName())))
        .toList();
  }

  /** Ordinal of a StatefulSet pod name ({@code <set>-<n>}), or -1 when the name has none. */
  public static int ordinalOf(String podName) {
    int dash = podName.lastIndexOf('-');
    if (dash < 0 || dash == podName.length() - 1) {
      return -1;
    }
    try {
      return Integer.parseInt(podName.substring(dash + 1));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  @Override
  public void close() {
    informer.close();
  }
}
