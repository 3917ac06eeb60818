package io.valkeyk8s.reconciler.sentinel;

import io.fabric8.kubernetes.api.model.Pod;
import io.valkeyk8s.reconciler.Address;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Planned handover of a terminating primary (rolling update, drain): pause writes on it, wait
 * until a replica has every byte, then SENTINEL FAILOVER. The switch then wakes the loop, which
 * moves the label, and the fencer disconnects the paused clients so they retry on the new
 * primary. No acknowledged write is lost; writes wait about a second.
 */
final class Handover {
  private static final Logger log = LoggerFactory.getLogger(Handover.class);
  private static final Duration PAUSE = Duration.ofSeconds(10);
  private static final Duration CATCH_UP = Duration.ofSeconds(2);
  private static final long RETRY_NANOS = Duration.ofSeconds(15).toNanos();

  private final ValkeyNodes nodes;
  private final Sentinels sentinels;
  private final SentinelMetrics metrics;
  private final Map<String, Long> attempts = new ConcurrentHashMap<>();

  Handover(ValkeyNodes nodes, Sentinels sentinels, SentinelMetrics metrics) {
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
    ValkeyNodes.Role role = nodes.role(primary);
    if (role.replicas().isEmpty()) {
      log.warn("action=handover-skip pod={} reason=\"terminating primary has no replica\"",
          pod.getMetadata().getName());
      return;
    }
    long started = System.nanoTime();
    nodes.pauseWrites(primary, PAUSE);
    long lag = waitForCatchUp(primary);
    boolean accepted = sentinels.failover();
    if (!accepted) {
      nodes.unpause(primary);
    }
    metrics.handovers.increment();
    log.info("action=handover pod={} node={} lag_bytes={} failover={} took_ms={} reason=\"primary pod is terminating\"",
        pod.getMetadata().getName(), primary, lag, accepted ? "requested" : "refused",
        (System.nanoTime() - started) / 1_000_000);
  }

  /**
   * Waits until every replica has processed the paused primary's offset, asking the replicas
   * themselves (the primary learns replica offsets only from their once-a-second ACKs);
   * returns the largest lag left at the end.
   */
  private long waitForCatchUp(Address primary) throws InterruptedException {
    long deadline = System.nanoTime() + CATCH_UP.toNanos();
    ValkeyNodes.Role paused = nodes.role(primary);
    long lag;
    do {
      lag = 0;
      for (ValkeyNodes.Replica r : paused.replicas()) {
        long offset;
        try {
          offset = nodes.role(r.address()).offset();
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
