package io.valkeyk8s.reconciler.sentinel;

import io.valkeyk8s.reconciler.Address;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Disconnects the clients of demoted primaries (CLIENT KILL TYPE normal) so they reconnect
 * through the Service to the new primary instead of writing to a node that will be turned
 * into a replica (writes lost) or already is one (READONLY). A zombie (a frozen primary that
 * comes back) is fenced again on every pass until Sentinel has converted it; then once more
 * and forgotten. Also lifts a write pause left by a planned handover.
 */
final class Fencer {
  private static final Logger log = LoggerFactory.getLogger(Fencer.class);
  private static final long GIVE_UP_NANOS = Duration.ofMinutes(5).toNanos();

  private final ValkeyNodes nodes;
  private final SentinelMetrics metrics;
  private final Map<Address, Long> pending = new ConcurrentHashMap<>();

  Fencer(ValkeyNodes nodes, SentinelMetrics metrics) {
    this.nodes = nodes;
    this.metrics = metrics;
  }

  void demoted(Address node) {
    pending.putIfAbsent(node, System.nanoTime());
  }

  /** Fences what is pending; true while something is left to do. */
  boolean run(Address primary) {
    pending.remove(primary);
    for (Address node : pending.keySet()) {
      try {
        ValkeyNodes.Role role = nodes.role(node);
        long killed = nodes.killNormalClients(node);
        if (!role.isPrimary()) {
          nodes.unpause(node); // a handover's pause: lifted only once it can no longer take writes
        }
        metrics.fencedClients.increment(killed);
        if (killed > 0) {
          log.info("action=fence node={} role={} killed_clients={} reason=\"demoted primary, primary is {}\"",
              node, role.role(), killed, primary);
        }
        if (!role.isPrimary()) {
          pending.remove(node);
        }
      } catch (RuntimeException e) {
        if (System.nanoTime() - pending.getOrDefault(node, System.nanoTime()) > GIVE_UP_NANOS) {
          pending.remove(node);
          log.info("action=fence-give-up node={} reason=\"unreachable for 5 minutes\"", node);
        }
      }
    }
    return !pending.isEmpty();
  }
}
