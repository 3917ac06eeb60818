package io.valkeyk8s.reconciler.sentinel;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.lettuce.core.resource.ClientResources;
import io.valkeyk8s.reconciler.core.Config;
import io.valkeyk8s.reconciler.kube.Controller;
import io.valkeyk8s.reconciler.valkey.Credentials;
import io.valkeyk8s.reconciler.valkey.LettuceClients;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import io.valkeyk8s.reconciler.valkey.PodNames;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;

/**
 * {@code sentinel}: keep the primary label on the pod Sentinel elected (runs until stopped).
 * Sentinel events wake the loop like pod changes do; the pass is {@link PrimaryReconciler}.
 */
@Command(
    name = "sentinel",
    description = "Keep the primary label on the pod the Sentinels elected (default).")
public final class SentinelCommand implements Callable<Integer> {
  private final Map<String, String> env;

  public SentinelCommand(Map<String, String> env) {
    this.env = env;
  }

  @Override
  public Integer call() throws Exception {
    Config config = Config.fromEnv(env);
    Config.Sentinel sentinel = Config.Sentinel.fromEnv(env);
    return Controller.serve(client -> controller(config, sentinel, client));
  }

  /** Sentinel mode wired on the shared controller; start it, then close it. */
  public static Controller controller(
      Config config, Config.Sentinel sentinel, KubernetesClient client) throws IOException {
    Controller controller =
        new Controller("sentinel", config, client, Set.of(sentinel.labelName()));
    PodNames names =
        PodNames.of(
            ip -> controller.pods().stableNameOf(ip, config.tls().clusterDomain()),
            controller.pods()::ipOf);
    ClientResources resources =
        LettuceClients.resources(1, config.tls().enabled() ? names : PodNames.NONE);
    controller.closeWith(() -> resources.shutdown(0, 1, TimeUnit.SECONDS));
    SwitchClock clock = new SwitchClock();
    Sentinels sentinels =
        controller.closeWith(
            new Sentinels(sentinel, config.tls(), resources, clock, controller::wake));
    NodeClients nodes =
        controller.closeWith(
            new NodeClients(
                resources,
                Credentials.admin(config),
                config.tls(),
                names,
                Sentinels.TIMEOUT,
                false));
    SentinelMetrics metrics =
        new SentinelMetrics(controller.registry(), sentinels::connected, sentinels::known);
    PrimaryReconciler pass =
        new PrimaryReconciler(
            config,
            sentinel,
            client,
            controller.pods(),
            controller.labels(),
            sentinels,
            nodes,
            controller.leadership(),
            clock,
            metrics,
            controller.closeWith(new RefusedConnection(resources.eventBus(), controller::wake)));
    controller.health().readiness("sentinel-majority", pass::truthFresh);
    controller.onStart(() -> sentinels.start(config.resync()));
    controller.reconcileWith(pass, Duration.ofMinutes(2));
    return controller;
  }
}
