package io.valkeyk8s.reconciler.sentinel;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.lettuce.core.resource.ClientResources;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.valkeyk8s.reconciler.core.Config;
import io.valkeyk8s.reconciler.core.Health;
import io.valkeyk8s.reconciler.core.HealthServer;
import io.valkeyk8s.reconciler.core.ReconcileLoop;
import io.valkeyk8s.reconciler.core.WorkQueue;
import io.valkeyk8s.reconciler.kube.LabelWriter;
import io.valkeyk8s.reconciler.kube.Leadership;
import io.valkeyk8s.reconciler.kube.PodIndex;
import io.valkeyk8s.reconciler.valkey.Credentials;
import io.valkeyk8s.reconciler.valkey.LettuceClients;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import java.io.IOException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sentinel mode wired: Sentinel events, pod changes, leadership and the resync timer all add the
 * one key to the queue; the loop runs {@link PrimaryReconciler}. Start, then close.
 */
public final class SentinelMode implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SentinelMode.class);
  static final String KEY = "primary";

  private final Config config;
  private final WorkQueue<String> queue = new WorkQueue<>();
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Health health = new Health();
  private final ClientResources resources = LettuceClients.resources(1);
  private final PodIndex pods;
  private final LabelWriter labels;
  private final Sentinels sentinels;
  private final NodeClients nodes;
  private final Leadership leadership;
  private final PrimaryReconciler reconciler;
  private final ReconcileLoop<String> loop;
  private final HealthServer http;
  private final java.util.concurrent.atomic.AtomicBoolean closed =
      new java.util.concurrent.atomic.AtomicBoolean();

  public SentinelMode(Config config, SentinelConfig sentinel, KubernetesClient client)
      throws IOException {
    this.config = config;
    Runnable wake = () -> queue.add(KEY);
    SwitchClock clock = new SwitchClock();
    pods = new PodIndex(client, config.namespace(), config.podSelector(), wake);
    labels = new LabelWriter(client, config.namespace(), "valkey-reconciler", config.identity());
    sentinels = new Sentinels(sentinel, resources, clock, wake);
    nodes =
        new NodeClients(
            resources,
            Credentials.user(config.valkeyUsername(), config.valkeyPassword()),
            Sentinels.TIMEOUT,
            false);
    leadership =
        new Leadership(
            client,
            config.namespace(),
            config.leaseName(),
            config.identity(),
            config.leaseDuration(),
            wake,
            () -> {});
    SentinelMetrics metrics = new SentinelMetrics(registry, sentinels::connected, sentinels::known);
    Gauge.builder("valkey_reconciler_leader", () -> leadership.isLeader() ? 1 : 0)
        .register(registry);
    reconciler =
        new PrimaryReconciler(
            config, sentinel, client, pods, labels, sentinels, nodes, leadership, clock, metrics);
    loop = new ReconcileLoop<>(queue, reconciler, Duration.ofMinutes(2));
    health.liveness("reconcile-loop", loop::isAlive);
    health.readiness("pods-watching", () -> pods.hasSynced() && pods.isWatching());
    health.readiness("sentinel-majority", reconciler::truthFresh);
    http = new HealthServer(config.httpPort(), health, registry);
  }

  public void start() {
    http.start();
    pods.start();
    sentinels.start(config.resync());
    loop.start();
    leadership.start();
    queue.addEvery(KEY, config.resync());
    queue.add(KEY);
    log.info(
        "action=start mode=sentinel namespace={} http_port={} lease={} identity={} uptime_ms={}",
        config.namespace(),
        http.port(),
        config.leaseName().isEmpty() ? "-" : config.leaseName(),
        config.identity(),
        uptimeMillis());
    Thread.ofPlatform().daemon().name("ready-log").start(this::logWhenReady);
  }

  /** One line when the process first becomes ready, with the time since the JVM started. */
  private void logWhenReady() {
    try {
      while (!health.isReady()) {
        if (queue.isClosed()) {
          return;
        }
        Thread.sleep(10);
      }
      log.info("action=ready uptime_ms={}", uptimeMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static long uptimeMillis() {
    return ProcessHandle.current()
        .info()
        .startInstant()
        .map(t -> java.time.Duration.between(t, java.time.Instant.now()).toMillis())
        .orElse(-1L);
  }

  public Health health() {
    return health;
  }

  public int httpPort() {
    return http.port();
  }

  public boolean isLeader() {
    return leadership.isLeader();
  }

  @Override
  public void close() throws InterruptedException {
    if (!closed.compareAndSet(false, true)) {
      return; // the shutdown hook and the command both close
    }
    loop.close(); // no pass runs any more, then the Lease is released so a standby takes over at
    // once
    leadership.close();
    sentinels.close();
    nodes.close();
    pods.close();
    labels.close();
    http.close();
    resources.shutdown(0, 1, java.util.concurrent.TimeUnit.SECONDS);
    log.info("action=stop mode=sentinel");
  }
}
