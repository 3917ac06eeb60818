package io.valkeyk8s.reconciler.sentinel;

import io.fabric8.kubernetes.api.model.Pod;
import io.valkeyk8s.reconciler.kube.Departures;
import io.valkeyk8s.reconciler.kube.PodIndex;
import io.valkeyk8s.reconciler.valkey.Address;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The crash fast path: when there is evidence that the confirmed primary's Valkey process is gone,
 * SENTINEL FAILOVER on a Sentinel of another pod at once, instead of waiting for down-after and the
 * Sentinels' election. A process that is gone takes no writes, so promoting a replica now loses
 * nothing that waiting would have kept. Two kinds of evidence count: the kubelet's report of the
 * container terminated ({@link CrashEvidence}), and, usually a second or two earlier, the primary's
 * hang-up with its address refusing new connections ({@link RefusedConnection}) while a majority of
 * the Sentinels, on the other pods, see their links to it disconnected.
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
  private final RefusedConnection refusals;
  private final Sentinels sentinels;
  private final NodeClients nodes;
  private final PodIndex pods;
  private final SentinelMetrics metrics;
  private volatile InFlight inFlight;

  /** A failover requested for a crashed primary: its address, the Sentinel running it. */
  private record InFlight(Address crashed, Address sentinel, long startedNanos) {}

  FastFailover(
      Sentinels sentinels,
      NodeClients nodes,
      PodIndex pods,
      SentinelMetrics metrics,
      RefusedConnection refusals) {
    this.refusals = refusals;
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
    Optional<RefusedConnection.Refusal> refusal =
        crash.isPresent() ? Optional.empty() : refusals.newRefusal(pod, primary.port());
    if (crash.isEmpty() && refusal.isEmpty()) {
      return false;
    }
    String name = pod.getMetadata().getName();
    String uid = pod.getMetadata().getUid();
    String found =
        crash
            .map(
                c ->
                    "evidence=kubelet container_id="
                        + c.containerId()
                        + " exit_code="
                        + (c.exitCode() == null ? "-" : c.exitCode()))
            .orElseGet(() -> "evidence=connection-refused address=" + primary);
    String why =
        crash
            .map(
                c ->
                    "the kubelet reports the primary's valkey container terminated ("
                        + (c.reason() == null ? "no reason given" : c.reason())
                        + ")")
            .orElseGet(
                () ->
                    "the primary hung up "
                        + refusal.get().msSinceHangup()
                        + " ms ago and its pod's address refuses connections");
    Map<Address, Optional<DownAfterWindow>> windows = windows();
    Optional<String> race = raceWithTheSentinels(windows);
    Optional<String> against =
        race.or(() -> refusal.isPresent() ? uncorroborated(windows, uid) : Optional.empty());
    if (race.isPresent() || against.isEmpty()) {
      refusal.ifPresent(r -> refusals.consume(pod, primary.port()));
    }
    if (against.isPresent()) {
      if (race.isEmpty() && !refusal.get().firstCheck()) {
        return false; // checked again at the next passes within the window, logged once
      }
      log.info(
          "action=fast-failover-skipped pod={} {} reason=\"{}, but {}; {}\"",
          name,
          found,
          why,
          against.get(),
          race.isPresent()
              ? "down-after decides"
              : "checked again until "
                  + RefusedConnection.WINDOW.toMillis()
                  + " ms after the hang-up, and the kubelet's report still counts");
      return false;
    }
    Optional<Address> sentinel = sentinels.failoverAvoiding(onOtherLivePod(uid).negate());
    sentinel.ifPresent(
        s -> {
          metrics.fastFailovers.increment();
          inFlight = new InFlight(primary, s, System.nanoTime());
        });
    log.info(
        "action=fast-failover pod={} {} sentinel={} reason=\"{}\"",
        name,
        found,
        sentinel.map(Address::toString).orElse("none"),
        why
            + " at "
            + primary
            + (sentinel.isPresent()
                ? ": failover requested without waiting for down-after"
                : ": no Sentinel on another pod accepted SENTINEL FAILOVER; down-after decides"));
    return sentinel.isPresent();
  }

  /** Every Sentinel's SENTINEL MASTER view, empty for one that does not answer. */
  private Map<Address, Optional<DownAfterWindow>> windows() {
    Map<Address, Optional<DownAfterWindow>> windows = new LinkedHashMap<>();
    for (Address member : sentinels.members()) {
      windows.put(member, sentinels.downAfterWindow(member));
    }
    return windows;
  }

  /**
   * Why a forced failover now could race the Sentinels' own failover, or empty when every Sentinel
   * answers with at least {@link #MARGIN_MS} left before it may call the primary down.
   */
  private static Optional<String> raceWithTheSentinels(
      Map<Address, Optional<DownAfterWindow>> windows) {
    for (Map.Entry<Address, Optional<DownAfterWindow>> e : windows.entrySet()) {
      if (e.getValue().isEmpty()) {
        return Optional.of("Sentinel " + e.getKey() + " does not answer SENTINEL MASTER");
      }
      DownAfterWindow window = e.getValue().get();
      long left = window.remainingMs();
      if (left < MARGIN_MS) {
        return Optional.of(
            "Sentinel "
                + window.sentinel()
                + " may call it down in "
                + left
                + " ms (down-after "
                + window.downAfterMs()
                + " ms), less than the "
                + MARGIN_MS
                + " ms its peers need to learn of a forced failover: one now could race the"
                + " Sentinels' own and promote twice");
      }
    }
    return Optional.empty();
  }

  /**
   * Why a refused connection is not corroborated, or empty when a majority of all Sentinels, each
   * on a live pod other than the primary's, report their link to it disconnected (a dead process
   * closed their sockets too; a firewall rejecting new connections leaves theirs up).
   */
  private Optional<String> uncorroborated(
      Map<Address, Optional<DownAfterWindow>> windows, String primaryUid) {
    int majority = windows.size() / 2 + 1;
    long disconnected =
        windows.values().stream()
            .flatMap(Optional::stream)
            .filter(w -> onOtherLivePod(primaryUid).test(w.sentinel()))
            .filter(w -> w.flags().contains("disconnected"))
            .count();
    if (disconnected >= majority) {
      return Optional.empty();
    }
    return Optional.of(
        disconnected
            + " Sentinel(s) on other pods report their link to it disconnected, fewer than the "
            + majority
            + " that confirm a dead process (a firewall rejecting new connections also refuses)");
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
