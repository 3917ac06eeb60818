package io.valkeyk8s.reconciler.cluster;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;

/**
 * {@code cluster}: the long-running healer. Runs until its thread is interrupted (Main interrupts
 * it on shutdown or when leadership is lost). Exit 2 on bad settings.
 */
@Command(
    name = "cluster",
    mixinStandardHelpOptions = true,
    description =
        "Keeps a Valkey Cluster healthy: re-meets restarted pods, forgets vanished nodes, labels roles.")
public final class HealCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(HealCommand.class);

  private final Map<String, String> env;
  private final Function<ClusterSettings, ClusterPlatform> platforms;
  private final MeterRegistry registry;
  private final Consumer<ClusterHealth> healthSink;
  private final BooleanSupplier active;

  /** Production wiring: metrics go to Micrometer's global registry; health is not exposed. */
  public HealCommand() {
    this(
        System.getenv(),
        KubeClusterPlatform::connect,
        Metrics.globalRegistry,
        health -> {},
        () -> true);
  }

  /**
   * @param registry where the healer's meters go (the health server's Prometheus registry)
   * @param healthSink receives the loop's liveness/readiness once it starts
   * @param active passes run only while this is true (e.g. the leader elector's isLeader)
   */
  public HealCommand(
      Map<String, String> env,
      Function<ClusterSettings, ClusterPlatform> platforms,
      MeterRegistry registry,
      Consumer<ClusterHealth> healthSink,
      BooleanSupplier active) {
    this.active = active;
    this.env = env;
    this.platforms = platforms;
    this.registry = registry;
    this.healthSink = healthSink;
  }

  @Override
  public Integer call() {
    ClusterSettings settings;
    try {
      settings = ClusterSettings.fromEnv(env);
    } catch (ClusterSettings.InvalidSettingsException e) {
      System.err.println("error: " + e.getMessage());
      return ClusterCommand.BAD_SETTINGS;
    }
    LOG.info("cluster healer: {} every {} s", settings, settings.resyncInterval().toSeconds());
    try (ClusterPlatform platform = platforms.apply(settings);
        NodeClients clients = settings.nodeClients()) {
      HealLoop loop =
          new HealLoop(
              new ClusterHealer(platform.pods(), clients, platform.labeler(), settings.layout()),
              settings.resyncInterval(),
              registry);
      platform.onPodChange(loop::wake);
      healthSink.accept(loop);
      loop.run(active);
    }
    return ClusterCommand.OK;
  }
}
