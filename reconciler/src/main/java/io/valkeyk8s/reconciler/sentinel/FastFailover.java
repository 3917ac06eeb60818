package io.valkeyk8s.reconciler.sentinel;

import io.fabric8.kubernetes.api.model.Pod;
import io.valkeyk8s.reconciler.kube.Departures;
import io.valkeyk8s.reconciler.kube.PodIndex;
import io.valkeyk8s.reconciler.valkey.Address;
import java.util.Optional;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The crash fast path: when the kubelet reports the confirmed primary's Valkey container terminated
 * ({@link CrashEvidence}), SENTINEL FAILOVER on a Sentinel of another pod at once, instead of
 * waiting for down-after and the Sentinels' election. A terminated process takes no writes, so
 * promoting a replica now loses nothing that waiting would have kept.
 */
final class FastFailover {
  private static final Logger log = LoggerFactory.getLogger(FastFailover.class);

  private final CrashEvidence evidence = new CrashEvidence();
  private final Sentinels sentinels;
  private final PodIndex pods;
  private final SentinelMetrics metrics;

  FastFailover(Sentinels sentinels, PodIndex pods, SentinelMetrics metrics) {
    this.sentinels = sentinels;
    this.pods = pods;
    this.metrics = metrics;
  }

  /**
   * Checks the pod of the primary the Sentinels' majority names (the caller has made sure it is the
   * labelled one and no handover of it runs); true when a failover was requested now.
   */
  boolean check(Address primary, Pod pod) {
    Optional<CrashEvidence.Crash> crash = evidence.newCrash(pod);
    if (crash.isEmpty()) {
      return false;
    }
    CrashEvidence.Crash c = crash.get();
    String uid = pod.getMetadata().getUid();
    Optional<Address> sentinel = sentinels.failoverAvoiding(onOtherLivePod(uid).negate());
    sentinel.ifPresent(s -> metrics.fastFailovers.increment());
    log.info(
        "action=fast-failover pod={} container_id={} exit_code={} sentinel={} reason=\"{}\"",
        pod.getMetadata().getName(),
        c.containerId(),
        c.exitCode() == null ? "-" : c.exitCode(),
        sentinel.map(Address::toString).orElse("none"),
        "the kubelet reports the primary's valkey container terminated ("
            + (c.reason() == null ? "no reason given" : c.reason())
            + ") at "
            + primary
            + (sentinel.isPresent()
                ? ": failover requested without waiting for down-after"
                : ": no Sentinel on another pod accepted SENTINEL FAILOVER; down-after decides"));
    return sentinel.isPresent();
  }

  /** A Sentinel on a pod of the cache other than the crashed one, and not terminating. */
  private Predicate<Address> onOtherLivePod(String crashedUid) {
    return address ->
        pods.byAddress(address.host())
            .filter(p -> !p.getMetadata().getUid().equals(crashedUid))
            .filter(p -> !Departures.isTerminating(p))
            .isPresent();
  }
}
