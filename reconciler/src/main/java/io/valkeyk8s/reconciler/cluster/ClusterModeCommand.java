package io.valkeyk8s.reconciler.cluster;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.valkeyk8s.reconciler.core.Config;
import io.valkeyk8s.reconciler.core.Health;
import io.valkeyk8s.reconciler.core.HealthServer;
import io.valkeyk8s.reconciler.kube.Leadership;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;

/**
 * {@code cluster}: the long-running healer with the same process structure as Sentinel mode: health
 * server with Prometheus metrics, leader election on a Lease (a standby stays alive and ready but
 * heals nothing), and the {@link HealCommand} loop until the process is stopped.
 */
@Command(
    name = "cluster",
    mixinStandardHelpOptions = true,
    description =
        "Keeps a Valkey Cluster healthy: re-meets restarted pods, forgets vanished nodes, labels roles.")
public final class ClusterModeCommand implements Callable<Integer> {
  private final Map<String, String> env;

  public ClusterModeCommand(Map<String, String> env) {
    this.env = env;
  }

  @Override
  public Integer call() throws Exception {
    Config config = Config.fromEnv(env);
    try {
      ClusterSettings.fromEnv(env); // fail before anything starts
    } catch (ClusterSettings.InvalidSettingsException e) {
      System.err.println("error: " + e.getMessage());
      return ClusterCommand.BAD_SETTINGS;
    }
    CountDownLatch closed = new CountDownLatch(1);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Health health = new Health();
    try (KubernetesClient client = new KubernetesClientBuilder().build();
        HealthServer http = new HealthServer(config.httpPort(), health, registry);
        Leadership leadership =
            new Leadership(
                client,
                config.namespace(),
                config.leaseName(),
                config.identity(),
                config.leaseDuration(),
                () -> {},
                () -> {})) {
      Gauge.builder("valkey_reconciler_leader", () -> leadership.isLeader() ? 1 : 0)
          .register(registry);
      // Ready means the loop runs: cluster health is a metric, not readiness, because the
      // cluster only forms in the post-install hook, after `helm install --wait` waited for us.
      HealCommand healer =
          new HealCommand(
              env,
              settings -> new KubeClusterPlatform(client, settings),
              registry,
              loop -> {
                health.liveness("cluster-heal-loop", loop::alive);
                health.readiness("cluster-heal-loop", loop::alive);
              },
              leadership::isLeader);
      http.start();
      leadership.start();
      // On SIGTERM: stop the loop, then let the resources close (the Lease is released, so a
      // standby takes over at once) before the JVM halts.
      Thread main = Thread.currentThread();
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    main.interrupt();
                    try {
                      closed.await(5, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  },
                  "shutdown"));
      return healer.call();
    } finally {
      closed.countDown();
    }
  }
}
