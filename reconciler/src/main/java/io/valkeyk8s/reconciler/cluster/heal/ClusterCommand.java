package io.valkeyk8s.reconciler.cluster.heal;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.valkeyk8s.reconciler.cluster.topology.ClusterOps;
import io.valkeyk8s.reconciler.cluster.topology.ShardLayout;
import io.valkeyk8s.reconciler.core.Config;
import io.valkeyk8s.reconciler.kube.Controller;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import io.valkeyk8s.reconciler.valkey.PodNames;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/**
 * {@code cluster}: the long-running healer, on the same controller as Sentinel mode (health server
 * with Prometheus metrics, leader election on a Lease: a standby stays alive and ready but heals
 * nothing), running {@link HealPass} on every pod change and resync until the process is stopped.
 * Ready means the loop runs and its passes end: cluster health is a metric, not readiness, because
 * the cluster only forms in the post-install hook, after {@code helm install --wait} waited for us.
 */
@Command(
    name = "cluster",
    mixinStandardHelpOptions = true,
    description =
        "Keeps a Valkey Cluster healthy: re-meets restarted pods, forgets vanished nodes, labels roles.")
public final class ClusterCommand implements Callable<Integer> {
  private final Map<String, String> env;

  public ClusterCommand(Map<String, String> env) {
    this.env = env;
  }

  @Override
  public Integer call() throws Exception {
    Config config = Config.fromEnv(env);
    Config.Cluster cluster = Config.Cluster.fromEnv(env, config);
    return Controller.serve(client -> controller(config, cluster, client));
  }

  /** Cluster mode wired on the shared controller; start it, then close it. */
  public static Controller controller(
      Config config, Config.Cluster cluster, KubernetesClient client) throws IOException {
    Controller controller =
        new Controller(
            "cluster", config, client, Set.of(HealPass.ROLE_LABEL, HealPass.SHARD_LABEL));
    NodeClients nodes =
        controller.closeWith(
            ClusterOps.nodeClients(
                config,
                1,
                PodNames.of(
                    ip -> controller.pods().stableNameOf(ip, config.tls().clusterDomain()),
                    controller.pods()::ipOf)));
    HealPass pass =
        new HealPass(
            controller.pods(),
            config.valkeyPort(),
            nodes,
            controller.labels(),
            ShardLayout.of(cluster),
            controller.leadership(),
            new HealMetrics(controller.registry()),
            // Every pod lost at once: formed anew only after this long (an install is far faster).
            config.resync().multipliedBy(10));
    controller.health().readiness("heal-pass", pass::completed);
    // A pass may wait out the 30 s timeouts of several frozen nodes.
    controller.reconcileWith(pass, Duration.ofMinutes(2).plus(config.resync().multipliedBy(5)));
    return controller;
  }
}
