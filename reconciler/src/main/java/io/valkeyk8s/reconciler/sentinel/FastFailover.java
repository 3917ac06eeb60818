package io.valkeyk8s.reconciler.sentinel;

import io.fabric8.kubernetes.api.model.Pod;
import io.valkeyk8s.reconciler.kube.Departures;
import io.valkeyk8s.reconciler.kube.PodIndex;
import io.valkeyk8s.reconciler.valkey.Address;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The crash fast path: when the kubelet reports the confirmed primary's Valkey container terminated
 * ({@link CrashEvidence}), SENTINEL FAILOVER on a Sentinel of another pod at once, instead of
 * waiting for down-after and the Sentinels' election. A terminated process takes no writes, so
 * promoting a replica now loses nothing that waiting would have kept.
 *
 * <p>Then, until a majority of the Sentinels names a primary other than the crashed one, {@link
 * #promoted} names the replica the failing-over Sentinel selected as soon as it answers ROLE
 * master, about a second before the Sentinels report the switch (they notice a promotion with their
 * once-a-second INFO). That Sentinel decides alone (a forced failover takes no vote), so its choice
 * confirmed by the node is what the majority reports next.
 *
 * <p>Only while every Sentinel has at least {@link #MARGIN_MS} left before it may call the primary
 * down by itself ({@link DownAfterWindow}). A forced failover takes no vote: the other Sentinels
 * learn of it from the failing-over Sentinel's hello messages, sent every 2 s once it has seen the
 * promotion (its INFO to the promoted replica, every second during a failover). A Sentinel that
 * calls the primary down before then elects a leader of its own, which promotes another replica
 * under a newer epoch: two promotions, and the acknowledged writes the first one took are lost
 * (e2e/bench, down-after 1000 ms: 2 of 5 runs lost 50 and 66). With a short down-after the
 * Sentinels' own failover is as early as this one would be.
 */
final class FastFailover {
  private static final Logger log = LoggerFactory.getLogger(FastFailover.class);

  /**
   * The least time every Sentinel must have before it may call the primary down: 1 s for the
   * failing-over Sentinel to see the promotion, 2 s for its next hello to reach the others.
   */
  static final long MARGIN_MS = 3000;

  /** How long a requested failover is followed; the Sentinels report the switch well within. */
  private static final long FOLLOW_NANOS = Duration.ofSeconds(10).toNanos();

  private final CrashEvidence evidence = new CrashEvidence();
  private final Sentinels sentinels;
  private final NodeClients nodes;
  private final PodIndex pods;
  private final SentinelMetrics metrics;
  private volatile InFlight inFlight;

  /** A failover requested for a crashed primary: its address, the Sentinel running it. */
  private record InFlight(Address crashed, Address sentinel, long startedNanos) {}

  FastFailover(Sentinels sentinels, NodeClients nodes, PodIndex pods, SentinelMetrics metrics) {
    this.sentinels = sentinels;
    this.nodes = nodes;
    this.pods = pods;
    this.metrics = metrics;
  }

  /** True while a failover requested here has not been reported by the Sentinels' majority. */
  boolean following() {
    return inFlight != null;
  }

  /** True while the failover requested for this crashed primary is followed. */
  boolean awaitsPromotionAway(Address crashed) {
    InFlight f = inFlight;
    return f != null && f.crashed().equals(crashed);
  }

  /**
   * While following: the replica the failing-over Sentinel selected, once it answers ROLE master.
   * Stops following once the majority names a primary other than the crashed one, or after 10 s.
   */
  Optional<Address> promoted(Optional<Address> majority) {
    InFlight f = inFlight;
    if (f == null) {
      return Optional.empty();
    }
    if (majority.isPresent() && !majority.get().equals(f.crashed())
        || System.nanoTime() - f.startedNanos() > FOLLOW_NANOS) {
      inFlight = null;
      return Optional.empty();
    }
    return sentinels.promotedReplica(f.sentinel()).filter(this::saysPrimary);
  }

  private boolean saysPrimary(Address node) {
    try {
      return nodes.at(node).role().isPrimary();
    } catch (RuntimeException unreachable) {
      return false;
    }
  }

  /**
   * Keeps the evidence current for every pod but the primary's: a crash a pod reports while it is
   * not the primary was the Sentinels' business, and must not count when that pod is the primary
   * later (seen in e2e/bench: a replica restarted in one run was failed over, alive, right after
   * its promotion in the next, because the evidence still remembered its old container).
   */
  void observeAllBut(Optional<Pod> primaryPod, List<Pod> pods) {
    String primaryUid = primaryPod.map(p -> p.getMetadata().getUid()).orElse(null);
    for (Pod pod : pods) {
      if (!pod.getMetadata().getUid().equals(primaryUid)) {
        evidence.newCrash(pod); // consumed: remembered as seen, never reported later
      }
    }
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
    Optional<String> race = raceWithTheSentinels();
    if (race.isPresent()) {
      log.info(
          "action=fast-failover-skipped pod={} container_id={} reason=\"the kubelet reports the"
              + " primary's valkey container terminated, but {}: a forced failover now could race"
              + " the Sentinels' own and promote twice; down-after decides\"",
          pod.getMetadata().getName(),
          c.containerId(),
          race.get());
      return false;
    }
    String uid = pod.getMetadata().getUid();
    Optional<Address> sentinel = sentinels.failoverAvoiding(onOtherLivePod(uid).negate());
    sentinel.ifPresent(
        s -> {
          metrics.fastFailovers.increment();
          inFlight = new InFlight(primary, s, System.nanoTime());
        });
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

  /**
   * Why a forced failover now could race the Sentinels' own failover, or empty when every Sentinel
   * answers with at least {@link #MARGIN_MS} left before it may call the primary down.
   */
  private Optional<String> raceWithTheSentinels() {
    for (Address member : sentinels.members()) {
      Optional<DownAfterWindow> window = sentinels.downAfterWindow(member);
      if (window.isEmpty()) {
        return Optional.of("Sentinel " + member + " does not answer SENTINEL MASTER");
      }
      long left = window.get().remainingMs();
      if (left < MARGIN_MS) {
        return Optional.of(
            "Sentinel "
                + member
                + " may call it down in "
                + left
                + " ms (down-after "
                + window.get().downAfterMs()
                + " ms), less than the "
                + MARGIN_MS
                + " ms its peers need to learn of a forced failover");
      }
    }
    return Optional.empty();
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
