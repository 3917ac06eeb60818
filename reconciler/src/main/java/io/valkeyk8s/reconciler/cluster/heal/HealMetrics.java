package io.valkeyk8s.reconciler.cluster.heal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.atomic.AtomicInteger;

/** The Prometheus meters of the cluster healer. */
final class HealMetrics {
  final Timer pass;
  final Counter meets;
  final Counter forgets;
  final Counter labelChanges;
  final Counter adoptions;
  final Counter failedPasses;
  final Counter reforms;
  final AtomicInteger clusterOk = new AtomicInteger();
  final AtomicInteger reachable = new AtomicInteger();

  HealMetrics(MeterRegistry registry) {
    pass =
        Timer.builder("valkey_cluster_heal_pass")
            .description("Duration of one healing pass")
            .register(registry);
    meets =
        Counter.builder("valkey_cluster_meets")
            .description("CLUSTER MEET sent to re-join nodes")
            .register(registry);
    forgets =
        Counter.builder("valkey_cluster_forgets")
            .description("CLUSTER FORGET of vanished nodes")
            .register(registry);
    labelChanges =
        Counter.builder("valkey_cluster_label_changes")
            .description("Pods relabelled with valkey-role/valkey-shard")
            .register(registry);
    adoptions =
        Counter.builder("valkey_cluster_adoptions")
            .description(
                "Fresh or empty nodes met and attached as replicas of their shard's primary")
            .register(registry);
    reforms =
        Counter.builder("valkey_cluster_reforms")
            .description("New, empty clusters formed after every pod lost its data at once")
            .register(registry);
    failedPasses =
        Counter.builder("valkey_cluster_heal_failures")
            .description("Healing passes that threw")
            .register(registry);
    registry.gauge("valkey_cluster_state_ok", clusterOk);
    registry.gauge("valkey_cluster_nodes_reachable", reachable);
  }
}
