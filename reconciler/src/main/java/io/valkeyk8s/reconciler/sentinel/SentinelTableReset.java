package io.valkeyk8s.reconciler.sentinel;

import io.fabric8.kubernetes.api.model.Pod;
import io.valkeyk8s.reconciler.kube.PodIndex;
import io.valkeyk8s.reconciler.valkey.Address;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Converges the Sentinels' tables to the pods. A Sentinel never forgets a Sentinel or a replica it
 * once knew: after a scale-down every Sentinel still counts the departed ones, so a failover needs
 * the votes of a majority of Sentinels that partly no longer exist. When a Sentinel lists a
 * Sentinel or replica whose announced address matches no pod or is marked invalid (port 0), or two
 * Sentinels for one pod, and it still does after {@link #STALE_AFTER} (a pod the StatefulSet
 * recreates is back by then), this sends {@code SENTINEL RESET} to one Sentinel at a time, only
 * while the set is quiet (every pod Ready, none terminating, no Sentinel failing over), and waits
 * until that Sentinel has rediscovered every other pod's Sentinel and every replica before the
 * next: a Sentinel just reset knows no replica and refuses a failover (NOGOODSLAVE) for a moment.
 * The caller runs it at the end of a converged pass.
 */
final class SentinelTableReset {
  private static final Logger log = LoggerFactory.getLogger(SentinelTableReset.class);
  static final Duration STALE_AFTER = Duration.ofSeconds(30);
  private static final Duration REDISCOVER_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration CHECK = Duration.ofSeconds(1);

  /** A Sentinel whose reset did not converge is not reset again before this. */
  private static final Duration RETRY_AFTER = Duration.ofMinutes(5);

  private final Sentinels sentinels;
  private final PodIndex pods;
  private final SentinelMetrics metrics;
  private final Map<Address, Long> lastReset = new HashMap<>();
  private Long staleSince;
  private Resetting resetting;

  private record Resetting(Address sentinel, long startedNanos) {}

  SentinelTableReset(Sentinels sentinels, PodIndex pods, SentinelMetrics metrics) {
    this.sentinels = sentinels;
    this.pods = pods;
    this.metrics = metrics;
  }

  /** True while a reset Sentinel has not rediscovered the others: no failover should start. */
  boolean resetting() {
    return resetting != null;
  }

  /** One step; the delay after which the caller should run it again, if any. */
  Optional<Duration> converge(Address primary) {
    long now = System.nanoTime();
    List<Pod> all = pods.pods();
    if (resetting != null) {
      Optional<SentinelTable> table = sentinels.table(resetting.sentinel());
      long tookMs = (now - resetting.startedNanos()) / 1_000_000;
      if (table.isPresent() && rediscovered(table.get(), primary, all)) {
        log.info(
            "action=sentinel-rediscovered sentinel={} took_ms={} reason=\"knows every other pod's Sentinel and every replica again\"",
            resetting.sentinel(),
            tookMs);
        resetting = null;
      } else if (now - resetting.startedNanos() > REDISCOVER_TIMEOUT.toNanos()) {
        log.warn(
            "action=sentinel-reset-unfinished sentinel={} took_ms={} reason=\"has not rediscovered the other Sentinels and replicas; moving on\"",
            resetting.sentinel(),
            tookMs);
        resetting = null;
      } else {
        return Optional.of(CHECK);
      }
    }
    if (!quiet(all)) {
      return Optional.empty(); // the pod changes that end the disruption wake the next pass
    }
    List<SentinelTable> tables = new ArrayList<>();
    for (Address member : sentinels.members()) {
      Optional<SentinelTable> table = sentinels.table(member);
      if (table.isPresent() && table.get().unsettled()) {
        return Optional.of(CHECK.multipliedBy(5)); // never during a failover: look again later
      }
      table.ifPresent(tables::add);
    }
    Map<Address, Set<Address>> stale = new HashMap<>();
    for (SentinelTable t : tables) {
      if (pods.byAddress(t.sentinel().host()).isEmpty()) {
        continue; // a departed Sentinel still answering: it goes with its pod
      }
      Set<Address> gone =
          Stream.concat(
                  t.sentinels().stream(), t.replicas().stream().map(SentinelTable.Replica::address))
              .filter(this::stale)
              .collect(Collectors.toCollection(LinkedHashSet::new));
      gone.addAll(twiceForOnePod(t.sentinels()));
      if (!gone.isEmpty()) {
        stale.put(t.sentinel(), gone);
      }
    }
    if (stale.isEmpty()) {
      staleSince = null;
      return Optional.empty();
    }
    if (staleSince == null) {
      staleSince = now;
    }
    long waited = now - staleSince;
    if (waited < STALE_AFTER.toNanos()) {
      return Optional.of(Duration.ofNanos(STALE_AFTER.toNanos() - waited));
    }
    lastReset.values().removeIf(t -> now - t > RETRY_AFTER.toNanos());
    for (SentinelTable t : tables) {
      Set<Address> gone = stale.get(t.sentinel());
      if (gone == null || lastReset.containsKey(t.sentinel())) {
        continue;
      }
      if (!sentinels.reset(t.sentinel())) {
        continue;
      }
      lastReset.put(t.sentinel(), now);
      resetting = new Resetting(t.sentinel(), now);
      metrics.sentinelResets.increment();
      log.info(
          "action=sentinel-reset sentinel={} forgets={} reason=\"it lists Sentinels or replicas that match no pod\"",
          t.sentinel(),
          gone);
      return Optional.of(CHECK);
    }
    return Optional.of(RETRY_AFTER); // every Sentinel with stale entries was reset recently
  }

  /** An entry that matches no pod, or whose address Sentinel itself marked invalid (port 0). */
  private boolean stale(Address entry) {
    return entry.port() == 0 || pods.byAddress(entry.host()).isEmpty();
  }

  /**
   * Sentinel entries of a pod listed more than once: one pod runs one Sentinel. Seen after a
   * rolling restart with announced hostnames (e2e/bench, run 2 of a roll series): a rolled pod got
   * the IP another pod had before, its Sentinel (a new run ID, the emptyDir is new) was matched to
   * that other pod's entry by IP, and the entry of its own old run ID under its hostname stayed.
   * Every Sentinel then counted 3 others for as long as the bench watched (300 s), and a failover
   * needed 3 votes of the 3 that exist.
   */
  private Set<Address> twiceForOnePod(List<Address> sentinelEntries) {
    Map<String, List<Address>> byPod = new HashMap<>();
    for (Address entry : sentinelEntries) {
      podName(entry)
          .ifPresent(pod -> byPod.computeIfAbsent(pod, k -> new ArrayList<>()).add(entry));
    }
    Set<Address> twice = new LinkedHashSet<>();
    byPod.values().stream().filter(entries -> entries.size() > 1).forEach(twice::addAll);
    return twice;
  }

  /** Every pod Ready and none terminating: no rollout, scale or handover is under way. */
  private static boolean quiet(List<Pod> all) {
    return !all.isEmpty()
        && all.stream().allMatch(p -> p.getMetadata().getDeletionTimestamp() == null && isReady(p));
  }

  private static boolean isReady(Pod pod) {
    return pod.getStatus() != null
        && pod.getStatus().getConditions() != null
        && pod.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /**
   * The reset Sentinel lists a Sentinel on every other pod and every pod but the primary's as a
   * healthy replica, and nothing that matches no pod.
   */
  private boolean rediscovered(SentinelTable t, Address primary, List<Pod> all) {
    Optional<String> self = podName(t.sentinel());
    Optional<String> primaryPod = podName(primary);
    Set<String> peerPods = new HashSet<>();
    for (Address a : t.sentinels()) {
      Optional<String> pod = podName(a);
      if (pod.isEmpty() || stale(a) || !peerPods.add(pod.get())) {
        return false; // no pod, marked invalid, or a second entry for one pod
      }
    }
    Set<String> replicaPods = new HashSet<>();
    for (SentinelTable.Replica r : t.replicas()) {
      Optional<String> pod = podName(r.address());
      if (pod.isEmpty()) {
        return false;
      }
      if (r.healthy()) {
        replicaPods.add(pod.get());
      }
    }
    for (Pod p : all) {
      String name = p.getMetadata().getName();
      if (!Optional.of(name).equals(self) && !peerPods.contains(name)) {
        return false;
      }
      if (!Optional.of(name).equals(primaryPod) && !replicaPods.contains(name)) {
        return false;
      }
    }
    return true;
  }

  private Optional<String> podName(Address address) {
    return pods.byAddress(address.host()).map(p -> p.getMetadata().getName());
  }
}
