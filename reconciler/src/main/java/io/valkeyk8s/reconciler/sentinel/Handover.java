package io.valkeyk8s.reconciler.sentinel;

import io.fabric8.kubernetes.api.model.Pod;
import io.valkeyk8s.reconciler.core.Config;
import io.valkeyk8s.reconciler.valkey.Address;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import io.valkeyk8s.reconciler.valkey.Role;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Planned handover of a terminating primary (rolling update, drain, scale-down): pause writes on
 * it, wait until the replicas that stay have every byte, then SENTINEL FAILOVER on a Sentinel of a
 * pod that stays. Replicas on terminating pods (a scale-down deletes its pods at once) are given
 * replica-priority 0 first, and the failover is asked only once the Sentinel that will run it
 * excludes each of them (priority 0 seen, or the replica down or disconnected): Sentinel picks
 * among the replicas it knows by priority and offset, and a departing replica promoted would take
 * the primary down with it moments later. Writes are not paused while that is awaited.
 *
 * <p>In a rolling update the same wait makes Sentinel pick the replica the roll restarts last:
 * replicas the roll has yet to restart while a better one exists (one already restarted, else the
 * one of lowest ordinal) get replica-priority {@value #LATER_PRIORITY} (still promotable, only less
 * preferred), so a roll of N pods moves the primary at most twice instead of up to N times. The
 * roll restarts them, and a restarted replica starts with the default priority again.
 *
 * <p>While the failover runs, {@link #promoted} names the replica the failing-over Sentinel
 * selected as soon as it answers ROLE master, about a second before the Sentinels announce the
 * switch (they notice a promotion with their once-a-second INFO), and re-points the other replicas
 * to it at once, so that a primary with min-replicas-to-write takes writes as soon as the label
 * reaches it. No acknowledged write is lost: the old primary, paused and caught up, is demoted
 * (REPLICAOF the promoted replica) as soon as the pass has routed the Service to the promoted
 * replica ({@link #routed}; at the latest 0.5 s after the promotion), so a write still waiting in
 * its pause fails with READONLY; until then a client that still reaches it waits instead of
 * failing. Sentinel converts a live old primary only after the pause has ended, and a write that
 * reached it through a stale route was then taken and lost (PlannedHandoverBenchmark).
 *
 * <p>With VALKEY_HANDOVER_FAILOVER=coordinated the Sentinel is asked for SENTINEL FAILOVER
 * COORDINATED instead (the primary pauses, waits and demotes itself), the label follows the
 * Sentinels' majority, and a refusal falls back to pause + forced failover, logged.
 */
final class Handover {
  private static final Logger log = LoggerFactory.getLogger(Handover.class);
  private static final Duration PAUSE = Duration.ofSeconds(10);
  private static final Duration CATCH_UP = Duration.ofSeconds(2);
  private static final long RETRY_NANOS = Duration.ofSeconds(15).toNanos();

  /**
   * How long departing replicas may stay eligible in the Sentinel's view before the failover is
   * asked anyway: Sentinel reads a replica's priority with its INFO every 10 s (the ITs measure
   * 9.3-9.7 s when every Sentinel read it just before), a departing replica disconnects as soon as
   * its process stops; 5 s of margin for a Sentinel or node under load.
   */
  private static final long EXCLUDE_NANOS = Duration.ofSeconds(15).toNanos();

  /** replica-priority of a replica the roll restarts before the preferred successor. */
  static final int LATER_PRIORITY = 1000;

  /** How long a handover is followed; the Sentinels announce the switch well within it. */
  private static final long FOLLOW_NANOS = PAUSE.toNanos();

  private final NodeClients nodes;
  private final Sentinels sentinels;
  private final SentinelMetrics metrics;
  private final Supplier<Predicate<Address>> leavingNow;
  private final Supplier<ToIntFunction<Address>> restartRank;
  private final Map<String, Long> attempts = new ConcurrentHashMap<>();
  private final Map<String, Long> preparing = new ConcurrentHashMap<>();
  private final Set<Address> deprioritized = ConcurrentHashMap.newKeySet();
  private final Set<Address> disfavoured = ConcurrentHashMap.newKeySet();
  private final Set<String> coordinatedAsked = ConcurrentHashMap.newKeySet();
  private final Config.Sentinel.HandoverFailover failover;
  private final long settleNanos;
  private volatile String unsupported;
  private volatile InFlight inFlight;
  private volatile boolean repointed;
  private volatile long promotionSeenNanos;
  private volatile Address promotedTo;
  private volatile boolean demoted;

  /** How long the paused old primary waits for {@link #routed} before it is demoted anyway. */
  private static final long DEMOTE_NANOS = Duration.ofMillis(500).toNanos();

  /**
   * A failover this reconciler asked for: the paused primary, its replicas, the Sentinel running
   * it.
   */
  private record InFlight(
      Address primary,
      List<Address> replicas,
      Address sentinel,
      long startedNanos,
      boolean coordinated) {}

  /**
   * @param leavingNow decides, when asked, which node and Sentinel addresses belong to pods that
   *     are going away (terminating, removed by a scale-down, or gone)
   * @param restartRank how soon a rolling update restarts a node's pod, when asked (0: not, or
   *     already restarted; see {@link io.valkeyk8s.reconciler.kube.Departures#restartRank})
   * @param failover coordinated (the primary hands over itself) or forced (paused, then failed over
   *     by Sentinel)
   * @param kubeProxyMinSync how long writes go on after the pod starts terminating (see {@link
   *     #start})
   */
  Handover(
      NodeClients nodes,
      Sentinels sentinels,
      SentinelMetrics metrics,
      Supplier<Predicate<Address>> leavingNow,
      Supplier<ToIntFunction<Address>> restartRank,
      Config.Sentinel.HandoverFailover failover,
      Duration kubeProxyMinSync) {
    this.failover = failover;
    this.settleNanos = kubeProxyMinSync.toNanos();
    this.nodes = nodes;
    this.sentinels = sentinels;
    this.metrics = metrics;
    this.leavingNow = leavingNow;
    this.restartRank = restartRank;
  }

  /**
   * Starts a handover of this terminating primary unless one started recently. True while it is
   * still preparing (waiting for the Sentinel to exclude the departing replicas): call again soon.
   *
   * <p>Writes are paused no sooner than kube-proxy's minSyncPeriod after the pod was first seen
   * terminating: the termination changes the EndpointSlices of the Services that select the pod
   * (the read Service, metrics), kube-proxy syncs for that at once and then holds any further
   * change back for minSyncPeriod. A route switched earlier waited out that period with writes
   * paused (about 0.8 s of the 0.9 s a pod deletion cost); switched after it, it applies at once.
   * The primary serves writes meanwhile: its preStop hook keeps the pod running.
   */
  boolean start(Pod pod, Address primary) throws InterruptedException {
    String uid = pod.getMetadata().getUid();
    long now = System.nanoTime();
    Long last = attempts.get(uid);
    if (last != null && now - last < RETRY_NANOS) {
      return false;
    }
    attempts.values().removeIf(t -> now - t > 10 * RETRY_NANOS);
    preparing.values().removeIf(t -> now - t > 10 * RETRY_NANOS);
    Role role = nodes.at(primary).role();
    Predicate<Address> leaving = leavingNow.get();
    List<Address> staying = new ArrayList<>();
    List<Address> departing = new ArrayList<>();
    for (Role.Replica r : role.replicas()) {
      (leaving.test(r.address()) ? departing : staying).add(r.address());
    }
    if (staying.isEmpty()) {
      attempts.put(uid, now);
      log.warn(
          "action=handover-skip pod={} replicas={} reason=\"the terminating primary has no replica on a pod that stays\"",
          pod.getMetadata().getName(),
          departing);
      return false;
    }
    departing.forEach(this::deprioritize);
    List<Address> later = restartedBeforeTheBest(staying);
    later.forEach(this::disfavour);
    long preparingSince = preparing.computeIfAbsent(uid, k -> now);
    if (now - preparingSince < settleNanos) {
      return true; // let kube-proxy's sync of the termination pass first (see above)
    }
    Optional<Address> ready = sentinelExcluding(departing, later, leaving);
    boolean waitsForSentinel = !departing.isEmpty() || !later.isEmpty();
    if (ready.isEmpty() && waitsForSentinel) {
      if (now - preparingSince < EXCLUDE_NANOS) {
        return true; // writes go on meanwhile; the pod's preStop hook keeps it running
      }
      log.warn(
          "action=handover-unprepared pod={} waited_ms={} sentinels=\"{}\" reason=\"no Sentinel on a pod that stays got ready to promote the preferred successor in time: failing over anyway\"",
          pod.getMetadata().getName(),
          (now - preparingSince) / 1_000_000,
          unready(departing, later, leaving));
    }
    attempts.put(uid, now);
    deprioritized.clear(); // a pod recreated at one of these addresses starts with the default
    disfavoured.clear();
    long started = System.nanoTime();
    boolean coordinated = coordinatedFor(uid, pod);
    long lag = 0;
    Optional<Address> sentinel =
        coordinated ? coordinatedFailover(ready, leaving) : Optional.empty();
    if (sentinel.isEmpty()) {
      coordinated = false;
      nodes.at(primary).pauseWrites(PAUSE);
      lag = waitForCatchUp(primary, staying);
      sentinel = ready.filter(sentinels::failoverOn).or(() -> sentinels.failover(leaving));
      if (sentinel.isEmpty()) {
        nodes.at(primary).unpause();
      }
    }
    if (sentinel.isPresent()) {
      repointed = false;
      demoted = false;
      inFlight = new InFlight(primary, staying, sentinel.get(), started, coordinated);
      if (coordinated) {
        coordinatedAsked.add(uid);
      }
    }
    metrics.handovers.increment();
    log.info(
        "action=handover pod={} node={} lag_bytes={} departing_replicas={} restarted_later={} prepared_ms={} failover={} took_ms={} reason=\"primary pod is terminating\"",
        pod.getMetadata().getName(),
        primary,
        lag,
        departing,
        later,
        (started - preparingSince) / 1_000_000,
        sentinel
            .map(s -> (inFlight.coordinated() ? "coordinated" : "forced") + " requested from " + s)
            .orElse("refused"),
        (System.nanoTime() - started) / 1_000_000);
    return false;
  }

  /**
   * Whether this handover asks for a coordinated failover: when configured, unless a Sentinel
   * refused one as unsupported, or one asked for this pod earlier did not switch (the primary
   * refused FAILOVER, e.g. a Sentinel ACL user without +failover): then pause and force.
   */
  private boolean coordinatedFor(String uid, Pod pod) {
    if (failover != Config.Sentinel.HandoverFailover.COORDINATED || unsupported != null) {
      return false;
    }
    if (coordinatedAsked.remove(uid)) {
      log.warn(
          "action=handover-fallback pod={} reason=\"the coordinated failover asked for this pod did not switch the primary: pausing it and forcing the failover\"",
          pod.getMetadata().getName());
      return false;
    }
    return true;
  }

  /**
   * SENTINEL FAILOVER COORDINATED on the prepared Sentinel, else on one of a pod that stays; the
   * Sentinel that accepted. When every Sentinel refused, the next handovers force the failover if
   * the answers say the command is unknown or not allowed (logged once), this one alone otherwise.
   */
  private Optional<Address> coordinatedFailover(
      Optional<Address> ready, Predicate<Address> leaving) {
    List<Address> order = new ArrayList<>();
    ready.ifPresent(order::add);
    sentinels.members().stream()
        .filter(s -> !order.contains(s))
        .sorted(java.util.Comparator.comparing(leaving::test)) // staying pods first
        .forEach(order::add);
    Map<Address, String> refusals = new java.util.LinkedHashMap<>();
    for (Address s : order) {
      Optional<String> refusal = sentinels.coordinatedFailoverOn(s);
      if (refusal.isEmpty()) {
        return Optional.of(s);
      }
      refusals.put(s, refusal.get());
    }
    boolean notSupported =
        !refusals.isEmpty() && refusals.values().stream().allMatch(Handover::meansUnsupported);
    if (notSupported) {
      unsupported = refusals.toString();
      log.warn(
          "action=handover-fallback answers=\"{}\" reason=\"SENTINEL FAILOVER COORDINATED is not available (needs Valkey 9.0+ Sentinels, and +failover for their ACL user on the servers): every handover pauses the primary and forces the failover from now on\"",
          unsupported);
    } else {
      log.warn(
          "action=handover-fallback answers=\"{}\" reason=\"no Sentinel accepted SENTINEL FAILOVER COORDINATED: pausing the primary and forcing the failover\"",
          refusals);
    }
    return Optional.empty();
  }

  /** An answer that says the Sentinel cannot do a coordinated failover at all. */
  private static boolean meansUnsupported(String answer) {
    String a = answer.toLowerCase(java.util.Locale.ROOT);
    return a.startsWith("noperm")
        || a.contains("unknown")
        || a.contains("syntax")
        || a.contains("wrong number");
  }

  /** replica-priority 0 on a replica whose pod is going away: Sentinel never promotes it. */
  private void deprioritize(Address replica) {
    if (deprioritized.contains(replica)) {
      return;
    }
    try {
      nodes.at(replica).configSet("replica-priority", "0");
      deprioritized.add(replica);
      log.info(
          "action=replica-priority node={} from=default to=0 reason=\"its pod is terminating: never promote it\"",
          replica);
    } catch (RuntimeException gone) {
      deprioritized.add(replica); // its process has stopped: Sentinel sees it disconnected
    }
  }

  /**
   * The replicas that stay whose pods a rolling update restarts before the best of them (one it
   * restarted already, else the one of lowest ordinal): empty when no roll is going on.
   */
  private List<Address> restartedBeforeTheBest(List<Address> staying) {
    ToIntFunction<Address> rank = restartRank.get();
    int best = staying.stream().mapToInt(rank).min().orElse(0);
    return staying.stream().filter(r -> rank.applyAsInt(r) > best).toList();
  }

  /** replica-priority {@value #LATER_PRIORITY}: Sentinel promotes it only if nothing better. */
  private void disfavour(Address replica) {
    if (!disfavoured.add(replica)) {
      return;
    }
    try {
      nodes.at(replica).configSet("replica-priority", String.valueOf(LATER_PRIORITY));
      log.info(
          "action=replica-priority node={} from=default to={} reason=\"the rolling update restarts its pod before the preferred successor's\"",
          replica,
          LATER_PRIORITY);
    } catch (RuntimeException unreachable) {
      // Sentinel sees it down or disconnected, which excludes it as well
    }
  }

  /**
   * The first Sentinel on a pod that stays that would promote none of the departing replicas, sees
   * the disfavoured ones with their new priority, and has a preferred replica (neither departing
   * nor disfavoured) healthy to promote. None within {@link #EXCLUDE_NANOS}: the handover goes on
   * without, and {@link #unready} says why.
   */
  private Optional<Address> sentinelExcluding(
      List<Address> departing, List<Address> later, Predicate<Address> leaving) {
    for (Address s : sentinels.members()) {
      if (leaving.test(s)) {
        continue;
      }
      Optional<SentinelTable> table = sentinels.table(s);
      if (table.isPresent() && whyNotReady(table.get(), departing, later).isEmpty()) {
        return Optional.of(s);
      }
    }
    return Optional.empty();
  }

  /** Why each Sentinel on a pod that stays is not ready to run this handover, for the log. */
  private Map<Address, String> unready(
      List<Address> departing, List<Address> later, Predicate<Address> leaving) {
    Map<Address, String> reasons = new java.util.LinkedHashMap<>();
    for (Address s : sentinels.members()) {
      if (!leaving.test(s)) {
        reasons.put(
            s,
            sentinels
                .table(s)
                .map(t -> whyNotReady(t, departing, later).orElse("ready now"))
                .orElse("no table"));
      }
    }
    return reasons;
  }

  /** Empty when a failover this Sentinel runs promotes the preferred successor, else why not. */
  private static Optional<String> whyNotReady(
      SentinelTable table, List<Address> departing, List<Address> later) {
    boolean excluded =
        table.replicas().stream()
            .filter(r -> departing.contains(r.address()))
            .allMatch(SentinelTable.Replica::excludedFromFailover);
    if (!excluded) {
      return Optional.of("a departing replica is still eligible");
    }
    boolean disfavouredSeen =
        table.replicas().stream()
            .filter(r -> later.contains(r.address()))
            .allMatch(r -> r.excludedFromFailover() || r.priority() >= LATER_PRIORITY);
    if (!disfavouredSeen) {
      return Optional.of("the priority " + LATER_PRIORITY + " of a disfavoured replica not seen");
    }
    // The preferred successor itself must be promotable: a replica the roll restarted a moment
    // ago may not be healthy in this Sentinel's table yet, and Sentinel would then promote a
    // disfavoured one that the roll restarts next (sentinel-tls: 2 handovers in one roll).
    boolean candidate =
        table.replicas().stream()
            .anyMatch(
                r ->
                    !departing.contains(r.address())
                        && !later.contains(r.address())
                        && r.healthy()
                        && r.priority() > 0);
    return candidate ? Optional.empty() : Optional.of("no preferred replica healthy");
  }

  /** True while a requested failover has not been announced by the Sentinels. */
  boolean following() {
    return inFlight != null;
  }

  /**
   * During a handover this reconciler requested, and until a majority of the Sentinels names a
   * primary other than the paused one: the replica the failing-over Sentinel selected, once it
   * answers ROLE master. That Sentinel decides alone (a forced failover needs no vote), so its
   * choice confirmed by the node is the truth the majority will report a second later.
   */
  Optional<Address> promoted(Optional<Address> majority) {
    InFlight f = inFlight;
    if (f == null) {
      return Optional.empty();
    }
    if (majority.isPresent() && !majority.get().equals(f.primary())
        || System.nanoTime() - f.startedNanos() > FOLLOW_NANOS) {
      routed(); // never leave the old primary to the end of its pause
      inFlight =
          null; // the Sentinels announced the switch (or it did not happen): back to the majority
      return Optional.empty();
    }
    if (f.coordinated()) {
      // The primary hands over by itself; moving the label early and re-pointing replicas while
      // the Sentinel runs its own state machine made Sentinel fail over again in 2 of 10
      // measured handovers, losing the writes taken meanwhile: follow the majority only.
      return Optional.empty();
    }
    Optional<Address> selected = sentinels.promotedReplica(f.sentinel());
    if (selected.isEmpty() || !isPrimary(selected.get())) {
      return Optional.empty();
    }
    if (!repointed) {
      repointed = true;
      promotionSeenNanos = System.nanoTime();
      promotedTo = selected.get();
      repointReplicas(f, selected.get());
    } else if (System.nanoTime() - promotionSeenNanos > DEMOTE_NANOS) {
      demoteOldPrimary(); // the pass did not get as far as routing the Service: do not wait
    }
    return selected;
  }

  /**
   * The pass routed the Service to the promoted replica (the slice written, or the label moved):
   * the paused old primary turns replica now. Until then it stays paused, so a client that still
   * reaches it waits instead of failing with READONLY; from now on a write still waiting in its
   * pause fails instead of being taken after the pause. No-op outside a forced handover.
   */
  void routed() {
    if (repointed) {
      demoteOldPrimary();
    }
  }

  private synchronized void demoteOldPrimary() {
    InFlight f = inFlight;
    if (f == null || demoted || f.coordinated()) {
      return;
    }
    demoted = true;
    Address promoted = promotedTo;
    try {
      nodes.at(f.primary()).replicaOf(promoted);
      log.info(
          "action=demote node={} primary={} after_promotion_ms={} reason=\"planned handover: the Service routes to the promoted replica, the paused old primary turns replica now, so a write still waiting in its pause fails instead of being taken after the pause\"",
          f.primary(),
          promoted,
          (System.nanoTime() - promotionSeenNanos) / 1_000_000);
    } catch (RuntimeException e) {
      log.warn(
          "action=demote-failed node={} primary={} error=\"{}\"",
          f.primary(),
          promoted,
          e.getMessage());
    }
  }

  /**
   * REPLICAOF the new primary on the other replicas: what Sentinel does after it noticed the
   * promotion, so that a min-replicas-to-write primary takes writes at once.
   */
  private void repointReplicas(InFlight f, Address promoted) {
    for (Address replica : f.replicas()) {
      if (replica.equals(promoted)) {
        continue;
      }
      try {
        nodes.at(replica).replicaOf(promoted);
        log.info(
            "action=repoint-replica node={} primary={} reason=\"planned handover promoted it\"",
            replica,
            promoted);
      } catch (RuntimeException e) {
        log.warn(
            "action=repoint-replica-failed node={} primary={} error=\"{}\"",
            replica,
            promoted,
            e.getMessage());
      }
    }
  }

  private boolean isPrimary(Address node) {
    try {
      return nodes.at(node).role().isPrimary();
    } catch (RuntimeException unreachable) {
      return false;
    }
  }

  /**
   * Waits until every replica that stays has processed the paused primary's offset, asking the
   * replicas themselves (the primary learns replica offsets only from their once-a-second ACKs);
   * returns the largest lag left at the end.
   */
  private long waitForCatchUp(Address primary, List<Address> staying) throws InterruptedException {
    long deadline = System.nanoTime() + CATCH_UP.toNanos();
    Role paused = nodes.at(primary).role();
    long lag;
    do {
      lag = 0;
      for (Role.Replica r : paused.replicas()) {
        if (!staying.contains(r.address())) {
          continue; // a departing replica need not have every byte
        }
        long offset;
        try {
          offset = nodes.at(r.address()).role().offset();
        } catch (RuntimeException unreachable) {
          offset = r.offset();
        }
        lag = Math.max(lag, paused.offset() - offset);
      }
      if (lag <= 0) {
        return 0;
      }
      Thread.sleep(5);
    } while (System.nanoTime() < deadline);
    return lag;
  }
}
