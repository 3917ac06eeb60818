package io.valkeyk8s.reconciler.kube;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.valkeyk8s.reconciler.core.Config;
import io.valkeyk8s.reconciler.core.Health;
import io.valkeyk8s.reconciler.core.HealthServer;
import io.valkeyk8s.reconciler.core.ReconcileLoop;
import io.valkeyk8s.reconciler.core.WorkQueue;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A long-running mode on Kubernetes, wired the same way for every mode: the pod cache, the label
 * writer, leader election on a Lease, {@code /healthz}, {@code /readyz} and Prometheus {@code
 * /metrics}, and the one loop that runs the mode's pass whenever a pod changes, the Lease changes
 * hands, the resync timer fires or the mode calls {@link #wake}. Build it, give it the pass and
 * what it must close, start it; {@link #serve} runs one until SIGTERM.
 */
public final class Controller implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Controller.class);
  private static final Duration STUCK_AFTER = Duration.ofMinutes(2);

  /** Builds a mode's controller on the process's Kubernetes client. */
  @FunctionalInterface
  public interface Factory {
    Controller create(KubernetesClient client) throws Exception;
  }

  private final String mode;
  private final Config config;
  private final WorkQueue<String> queue = new WorkQueue<>();
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Health health = new Health();
  private final PodIndex pods;
  private final LabelWriter labels;
  private final Leadership leadership;
  private final HealthServer http;
  private final List<Runnable> starts = new ArrayList<>();
  private final Deque<AutoCloseable> owned = new ArrayDeque<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private ReconcileLoop<String> loop;

  /**
   * @param mode the mode's name, also the one key of its queue
   * @param ownedLabels the pod labels the mode may write
   */
  public Controller(String mode, Config config, KubernetesClient client, Set<String> ownedLabels)
      throws IOException {
    this.mode = mode;
    this.config = config;
    pods = new PodIndex(client, config.namespace(), config.podSelector(), this::wake);
    labels = new LabelWriter(client, config.namespace(), config.identity(), ownedLabels);
    leadership =
        new Leadership(
            client,
            config.namespace(),
            config.leaseName(),
            config.identity(),
            config.leaseDuration(),
            this::wake,
            () -> {});
    Gauge.builder("valkey_reconciler_leader", () -> leadership.isLeader() ? 1 : 0)
        .register(registry);
    health.readiness("pods-watching", () -> pods.hasSynced() && pods.isWatching());
    http = new HealthServer(config.httpPort(), health, registry);
  }

  /** Asks for a pass; callbacks call only this. */
  public void wake() {
    queue.add(mode);
  }

  public PodIndex pods() {
    return pods;
  }

  public LabelWriter labels() {
    return labels;
  }

  public Leadership leadership() {
    return leadership;
  }

  public boolean isLeader() {
    return leadership.isLeader();
  }

  public MeterRegistry registry() {
    return registry;
  }

  public Health health() {
    return health;
  }

  /** The bound health port (useful when configured as 0). */
  public int httpPort() {
    return http.port();
  }

  /** The mode's pass; liveness fails when the loop dies or a pass hangs. */
  public void reconcileWith(ReconcileLoop.Pass<String> pass) {
    loop = new ReconcileLoop<>(queue, pass, STUCK_AFTER);
    health.liveness("reconcile-loop", loop::isAlive);
  }

  /** Runs at start, after the pod cache started and before the first pass. */
  public void onStart(Runnable start) {
    starts.add(start);
  }

  /**
   * Closed with the controller, after the loop stopped and the Lease was released, the last one
   * given first.
   */
  public <T extends AutoCloseable> T closeWith(T resource) {
    owned.push(resource);
    return resource;
  }

  public void start() {
    http.start();
    pods.start();
    starts.forEach(Runnable::run);
    loop.start();
    leadership.start();
    queue.addEvery(mode, config.resync());
    queue.add(mode);
    log.info(
        "action=start mode={} namespace={} http_port={} lease={} identity={} uptime_ms={}",
        mode,
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
      log.info("action=ready mode={} uptime_ms={}", mode, uptimeMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static long uptimeMillis() {
    return ProcessHandle.current()
        .info()
        .startInstant()
        .map(t -> Duration.between(t, Instant.now()).toMillis())
        .orElse(-1L);
  }

  @Override
  public void close() throws InterruptedException {
    if (!closed.compareAndSet(false, true)) {
      return; // the shutdown hook and the command both close
    }
    // No pass runs any more, then the Lease is released so a standby takes over at once.
    if (loop != null) {
      loop.close();
    } else {
      queue.close();
    }
    leadership.close();
    while (!owned.isEmpty()) {
      try {
        owned.pop().close();
      } catch (Exception e) {
        log.warn("action=close-failed mode={} error=\"{}\"", mode, e.getMessage());
      }
    }
    pods.close();
    labels.close();
    http.close();
    log.info("action=stop mode={}", mode);
  }

  /** Builds the mode on a Kubernetes client, starts it and blocks until SIGTERM has closed it. */
  public static int serve(Factory factory) throws Exception {
    CountDownLatch stopped = new CountDownLatch(1);
    try (KubernetesClient client = new KubernetesClientBuilder().build();
        Controller controller = factory.create(client)) {
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try {
                      controller.close();
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    } finally {
                      stopped.countDown();
                    }
                  },
                  "shutdown"));
      controller.start();
      stopped.await();
    }
    return 0;
  }
}
