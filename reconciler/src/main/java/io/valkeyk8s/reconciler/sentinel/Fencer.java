package io.valkeyk8s.reconciler.sentinel;

import io.valkeyk8s.reconciler.valkey.Address;
import io.valkeyk8s.reconciler.valkey.NodeClient;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import io.valkeyk8s.reconciler.valkey.Role;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Disconnects the clients of demoted primaries (CLIENT KILL TYPE normal) so they reconnect through
 * the Service to the new primary instead of writing to a node that will be turned into a replica
 * (writes lost) or already is one (READONLY). A zombie (a frozen primary that comes back) is fenced
 * again on every pass until Sentinel has converted it; then once more and forgotten. Also lifts a
 * write pause left by a planned handover. Forgotten too: a node that matches no pod any more (its
 * process is gone with its clients) and the primary's own pod under another address (IP or
 * hostname). A node that does not answer is retried after a growing delay, so that a dead address
 * cannot hold up the loop.
 */
final class Fencer {
  private static final Logger log = LoggerFactory.getLogger(Fencer.class);
  private static final long GIVE_UP_NANOS = Duration.ofMinutes(5).toNanos();
  private static final long RETRY_STEP_NANOS = Duration.ofMillis(500).toNanos();
  private static final long RETRY_MAX_NANOS = Duration.ofSeconds(4).toNanos();

  private final NodeClients nodes;
  private final SentinelMetrics metrics;
  private final Function<Address, Optional<String>> podOf;
  private final Map<Address, Long> pending = new ConcurrentHashMap<>();
  private final Map<Address, Long> failures = new ConcurrentHashMap<>();
  private final Map<Address, Long> notBefore = new ConcurrentHashMap<>();

  /** podOf: the UID of the pod at an address (IP or hostname), if any. */
  Fencer(NodeClients nodes, SentinelMetrics metrics, Function<Address, Optional<String>> podOf) {
    this.nodes = nodes;
    this.metrics = metrics;
    this.podOf = podOf;
  }

  void demoted(Address node) {
    pending.putIfAbsent(node, System.nanoTime());
  }

  private void forget(Address node) {
    pending.remove(node);
    failures.remove(node);
    notBefore.remove(node);
  }

  /** Fences what is pending; true while something is left to do. */
  boolean run(Address primary) {
    forget(primary);
    Optional<String> primaryPod = podOf.apply(primary);
    long now = System.nanoTime();
    for (Address node : pending.keySet()) {
      Optional<String> pod = podOf.apply(node);
      if (pod.isEmpty() || pod.equals(primaryPod)) {
        forget(node); // gone with its clients, or the primary again under another address
        continue;
      }
      if (now < notBefore.getOrDefault(node, now)) {
        continue;
      }
      try {
        NodeClient client = nodes.at(node);
        Role role = client.role();
        long killed = client.killNormalClients();
        if (!role.isPrimary()) {
          client.unpause(); // a handover's pause: lifted only once it can no longer take writes
        }
        failures.remove(node);
        notBefore.remove(node);
        metrics.fencedClients.increment(killed);
        if (killed > 0) {
          log.info(
              "action=fence node={} role={} killed_clients={} reason=\"demoted primary, primary is {}\"",
              node,
              role.role(),
              killed,
              primary);
        }
        if (!role.isPrimary()) {
          forget(node);
        }
      } catch (RuntimeException e) {
        long n = failures.merge(node, 1L, Long::sum);
        notBefore.put(node, System.nanoTime() + Math.min(RETRY_MAX_NANOS, n * RETRY_STEP_NANOS));
        if (System.nanoTime() - pending.getOrDefault(node, System.nanoTime()) > GIVE_UP_NANOS) {
          forget(node);
          log.info("action=fence-give-up node={} reason=\"unreachable for 5 minutes\"", node);
        }
      }
    }
    return !pending.isEmpty();
  }
}
