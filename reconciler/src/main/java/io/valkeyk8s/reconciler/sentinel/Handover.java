package io.valkeyk8s.reconciler.sentinel;

import io.fabric8.kubernetes.api.model.Pod;
import io.valkeyk8s.reconciler.valkey.Address;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import io.valkeyk8s.reconciler.valkey.Role;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Planned handover of a terminating primary (rolling update, drain): pause writes on it, wait until
 * a replica has every byte, then SENTINEL FAILOVER. While that failover runs, {@link #promoted}
 * names the replica the failing-over Sentinel selected as soon as it answers ROLE master, about a
 * second before the Sentinels announce the switch (they notice a promotion with their once-a-second
 * INFO), and re-points the other replicas to it at once, so that a primary with
 * min-replicas-to-write takes writes as soon as the label reaches it. No acknowledged write is
 * lost: the old primary stays paused until it is demoted.
 */
final class Handover {
  private static final Logger log = LoggerFactory.getLogger(Handover.class);
  private static final Duration PAUSE = Duration.ofSeconds(10);
  private static final Duration CATCH_UP = Duration.ofSeconds(2);
  private static final long RETRY_NANOS = Duration.ofSeconds(15).toNanos();

  /** How long a handover is followed; the Sentinels announce the switch well within it. */
  private static final long FOLLOW_NANOS = PAUSE.toNanos();

  private final NodeClients nodes;
  private final Sentinels sentinels;
  private final SentinelMetrics metrics;
  private final Map<String, Long> attempts = new ConcurrentHashMap<>();
  private volatile InFlight inFlight;
  private volatile boolean repointed;

  /**
   * A failover this reconciler asked for: the paused primary, its replicas, the Sentinel running
   * it.
   */
  private record InFlight(
      Address primary, List<Address> replicas, Address sentinel, long startedNanos) {}

  Handover(NodeClients nodes, Sentinels sentinels, SentinelMetrics metrics) {
    this.nodes = nodes;
    this.sentinels = sentinels;
    this.metrics = metrics;
  }

  /** Starts a handover of this terminating primary unless one started recently. */
  void start(Pod pod, Address primary) throws InterruptedException {
    String uid = pod.getMetadata().getUid();
    long now = System.nanoTime();
    Long last = attempts.get(uid);
    if (last != null && now - last < RETRY_NANOS) {
      return;
    }
    attempts.put(uid, now);
    attempts.values().removeIf(t -> now - t > 10 * RETRY_NANOS);
    Role role = nodes.at(primary).role();
    if (role.replicas().isEmpty()) {
      log.warn(
          "action=handover-skip pod={} reason=\"terminating primary has no replica\"",
          pod.getMetadata().getName());
      return;
    }
    long started = System.nanoTime();
    nodes.at(primary).pauseWrites(PAUSE);
    long lag = waitForCatchUp(primary);
    Optional<Address> sentinel = sentinels.failover();
    if (sentinel.isEmpty()) {
      nodes.at(primary).unpause();
    } else {
      List<Address> replicas = role.replicas().stream().map(Role.Replica::address).toList();
      repointed = false;
      inFlight = new InFlight(primary, replicas, sentinel.get(), started);
    }
    metrics.handovers.increment();
    log.info(
        "action=handover pod={} node={} lag_bytes={} failover={} took_ms={} reason=\"primary pod is terminating\"",
        pod.getMetadata().getName(),
        primary,
        lag,
        sentinel.map(s -> "requested from " + s).orElse("refused"),
        (System.nanoTime() - started) / 1_000_000);
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
      inFlight =
          null; // the Sentinels announced the switch (or it did not happen): back to the majority
      return Optional.empty();
    }
    Optional<Address> selected = sentinels.promotedReplica(f.sentinel());
    if (selected.isEmpty() || !isPrimary(selected.get())) {
      return Optional.empty();
    }
    if (!repointed) {
      repointed = true;
      repointReplicas(f, selected.get());
    }
    return selected;
  }

  /**
   * REPLICAOF the new primary on the other replicas: what Sentinel does after it noticed the
   * promotion.
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
   * Waits until every replica has processed the paused primary's offset, asking the replicas
   * themselves (the primary learns replica offsets only from their once-a-second ACKs); returns the
   * largest lag left at the end.
   */
  private long waitForCatchUp(Address primary) throws InterruptedException {
    long deadline = System.nanoTime() + CATCH_UP.toNanos();
    Role paused = nodes.at(primary).role();
    long lag;
    do {
      lag = 0;
      for (Role.Replica r : paused.replicas()) {
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
