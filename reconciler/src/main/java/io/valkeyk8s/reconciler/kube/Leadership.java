package io.valkeyk8s.reconciler.kube;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Leader election on a Lease (fabric8 LeaderElector + LeaseLock, released on cancel so a successor
 * takes over at once on a clean shutdown). Only the leader writes. The renew deadline is well
 * inside the lease duration, so a leader that cannot renew stops writing before any other replica
 * may acquire the Lease. Callbacks only flip a flag and call the hooks, which must not block. With
 * no lease name every replica leads (single-replica deployments).
 */
public final class Leadership implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Leadership.class);

  private final KubernetesClient client;
  private final String namespace;
  private final String leaseName;
  private final String identity;
  private final Duration leaseDuration;
  private final Runnable onStart;
  private final Runnable onStop;
  private volatile boolean leader;
  private volatile boolean closed;
  private volatile CompletableFuture<?> election;

  public Leadership(
      KubernetesClient client,
      String namespace,
      String leaseName,
      String identity,
      Duration leaseDuration,
      Runnable onStart,
      Runnable onStop) {
    this.client = client;
    this.namespace = namespace;
    this.leaseName = leaseName;
    this.identity = identity;
    this.leaseDuration = leaseDuration;
    this.onStart = onStart;
    this.onStop = onStop;
  }

  public void start() {
    if (leaseName.isEmpty()) {
      leader = true;
      onStart.run();
      return;
    }
    elect();
  }

  private void elect() {
    if (closed) {
      return;
    }
    var config =
        new LeaderElectionConfigBuilder()
            .withName(leaseName)
            .withLock(new LeaseLock(namespace, leaseName, identity))
            .withLeaseDuration(leaseDuration)
            .withRenewDeadline(leaseDuration.multipliedBy(2).dividedBy(3))
            .withRetryPeriod(leaseDuration.dividedBy(5))
            .withReleaseOnCancel(true)
            .withLeaderCallbacks(
                new LeaderCallbacks(
                    () -> {
                      leader = true;
                      log.info("action=lead lease={} identity={}", leaseName, identity);
                      onStart.run();
                    },
                    () -> {
                      leader = false;
                      log.info("action=stop-leading lease={} identity={}", leaseName, identity);
                      onStop.run();
                    },
                    newLeader ->
                        log.info("action=observe-leader lease={} leader={}", leaseName, newLeader)))
            .build();
    CompletableFuture<?> future = client.leaderElector().withConfig(config).build().start();
    election = future;
    // Losing the Lease ends the elector; stand again as a candidate.
    future.whenComplete(
        (ok, error) -> {
          leader = false;
          if (!closed) {
            CompletableFuture.runAsync(
                this::elect,
                CompletableFuture.delayedExecutor(
                    leaseDuration.toMillis() / 5, java.util.concurrent.TimeUnit.MILLISECONDS));
          }
        });
  }

  public boolean isLeader() {
    return leader;
  }

  @Override
  public void close() {
    closed = true;
    leader = false;
    CompletableFuture<?> future = election;
    if (future != null) {
      future.cancel(true);
    }
  }
}
