package io.valkeyk8s.reconciler.sentinel;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.function.IntSupplier;

/** The Prometheus meters of Sentinel mode. */
final class SentinelMetrics {
  final Timer labelMove;
  final Counter failovers;
  final Counter labelsAdded;
  final Counter labelsRemoved;
  final Counter fencedClients;
  final Counter handovers;
  final Counter fastFailovers;
  final Counter sentinelResets;

  SentinelMetrics(MeterRegistry registry, IntSupplier connected, IntSupplier known) {
    labelMove =
        Timer.builder("valkey_reconciler_label_move")
            .description(
                "First +switch-master from any Sentinel to the primary label written; 0 when the label moved on the promotion, before the switch was announced (planned handover, crash fast path)")
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(5))
            .maximumExpectedValue(Duration.ofSeconds(30))
            .register(registry);
    failovers =
        Counter.builder("valkey_reconciler_failovers")
            .description("Changes of the confirmed primary")
            .register(registry);
    labelsAdded =
        Counter.builder("valkey_reconciler_label_changes").tag("action", "add").register(registry);
    labelsRemoved =
        Counter.builder("valkey_reconciler_label_changes")
            .tag("action", "remove")
            .register(registry);
    fencedClients =
        Counter.builder("valkey_reconciler_fenced_clients")
            .description("Clients disconnected from demoted primaries")
            .register(registry);
    handovers =
        Counter.builder("valkey_reconciler_handovers")
            .description("Planned handovers started for a terminating primary")
            .register(registry);
    fastFailovers =
        Counter.builder("valkey_reconciler_fast_failovers")
            .description(
                "Failovers requested because the kubelet reported the primary's container terminated")
            .register(registry);
    sentinelResets =
        Counter.builder("valkey_reconciler_sentinel_resets")
            .description("SENTINEL RESETs sent to forget Sentinels and replicas that match no pod")
            .register(registry);
    Gauge.builder("valkey_reconciler_sentinels_connected", connected::getAsInt)
        .description("Sentinels with a live pub/sub subscription")
        .register(registry);
    Gauge.builder("valkey_reconciler_sentinels_known", known::getAsInt)
        .description("Sentinels discovered")
        .register(registry);
  }
}
