package io.valkeyk8s.testserver.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.valkeyk8s.testserver.Connector;
import io.valkeyk8s.testserver.TlsSettings;
import io.valkeyk8s.testserver.ValkeyTarget;
import io.valkeyk8s.testserver.probe.ClusterReport;
import io.valkeyk8s.testserver.probe.ProbeOptions;
import io.valkeyk8s.testserver.probe.ProbeReport;
import io.valkeyk8s.testserver.probe.ProbeSession;
import io.valkeyk8s.testserver.probe.WriteAttempt;
import io.valkeyk8s.testsupport.AclUsers;
import io.valkeyk8s.testsupport.LoopbackCluster;
import io.valkeyk8s.testsupport.LoopbackValkey;
import io.valkeyk8s.testsupport.ValkeyProcess;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code probe --cluster} against a real 3-primary cluster with one replica each on loopback:
 * through a kill -9 of a primary (the probe's seed) and through slots moving between primaries.
 */
class ClusterProbeIT {
  private static final Duration REFRESH = Duration.ofSeconds(1);

  private static Connector connector(LoopbackValkey valkey, ValkeyProcess seed, Duration timeout) {
    return new Connector(
        new ValkeyTarget(
            seed.host(), seed.port(), "client", valkey.users().orElseThrow().clientPassword()),
        TlsSettings.OFF,
        timeout,
        REFRESH);
  }

  private static long acked(ProbeSession session) {
    return session.attempts().stream().filter(WriteAttempt::isAcked).count();
  }

  private static ClusterReport.Shard shardAt(ProbeReport report, ValkeyProcess primary) {
    return report.cluster().shards().stream()
        .filter(s -> (primary.host() + ":" + primary.port()).equals(s.address()))
        .findFirst()
        .orElse(null);
  }

  @Test
  void theProbeFollowsAFailoverAndLosesNoAcknowledgedWrite() throws Exception {
    try (LoopbackValkey valkey = LoopbackValkey.withUsers(AclUsers.random())) {
      LoopbackCluster cluster = LoopbackCluster.start(valkey, 3, 1, host -> List.of());
      ValkeyProcess victim = cluster.primaries().getFirst();
      ValkeyProcess heir = cluster.replicas().getFirst();
      try (ProbeSession session =
          new ProbeSession(
              // The seed is the primary that dies: the probe must not need it afterwards.
              connector(valkey, victim, Duration.ofMillis(250)),
              new ProbeOptions(
                  Duration.ofMillis(20), Duration.ofSeconds(120), 20_000, Duration.ofHours(1)),
              Duration.ofSeconds(30),
              ProbeSession.newRunId())) {
        Thread writer = Thread.ofPlatform().name("probe").start(session::run);
        try {
          await("probe writes").atMost(Duration.ofSeconds(30)).until(() -> acked(session) >= 100);

          Instant killedAt = Instant.now();
          victim.kill();
          await("the replica takes over")
              .atMost(Duration.ofSeconds(30))
              .ignoreExceptions()
              .until(() -> cluster.isPrimary(heir));
          long promotedMs = Duration.between(killedAt, Instant.now()).toMillis();
          await("the probe writes to the promoted replica's slots again")
              .atMost(Duration.ofSeconds(30))
              .until(
                  () -> {
                    ClusterReport.Shard shard = shardAt(session.status(), heir);
                    return shard != null
                        && !shard.windows().isEmpty()
                        && !shard.windows().getLast().ongoing()
                        && shard.ackedWrites() >= 50;
                  });
          Thread.sleep(1_000);

          session.stop();
          writer.join(Duration.ofSeconds(10));
          ProbeReport report = session.report();
          System.out.println(report.toText());
          ClusterReport.Shard lost = shardAt(report, heir);
          long writesAgainMs =
              Duration.between(killedAt, Instant.parse(lost.windows().getLast().end())).toMillis();
          System.out.printf(
              "cluster failover: kill -9 to replica promoted (seen by the test) %d ms, to the"
                  + " first acknowledged write to the lost slots %d ms; that shard unavailable %d"
                  + " ms (longest window %d ms), %d topology change(s)%n",
              promotedMs,
              writesAgainMs,
              lost.unavailableMs(),
              lost.longestUnavailableMs(),
              report.cluster().topologyChanges());

          assertThat(report.verified()).as("every acknowledged write was read back").isTrue();
          assertThat(report.missingAckedWrites()).as("acknowledged writes lost").isZero();
          assertThat(report.mode()).isEqualTo("cluster");
          assertThat(report.cluster().shards()).hasSize(3);
          assertThat(report.cluster().shards())
              .allSatisfy(s -> assertThat(s.ackedWrites()).isPositive());
          assertThat(report.cluster().topologyChanges()).isPositive();
          assertThat(lost.windows()).isNotEmpty().noneMatch(ProbeReport.Window::ongoing);
          // The lost primary's slots were out for the failure detection at least (2 s node
          // timeout); the other shards' windows, if any, are stalls of this busy machine.
          assertThat(lost.longestUnavailableMs()).isGreaterThan(1_000);
          assertThat(report.cluster().shards().stream().filter(s -> s != lost).toList())
              .allSatisfy(
                  s ->
                      assertThat(s.longestUnavailableMs()).isLessThan(lost.longestUnavailableMs()));
        } finally {
          session.stop();
          writer.join(Duration.ofSeconds(10));
        }
      } catch (AssertionError | RuntimeException e) {
        valkey.printLogs();
        throw e;
      }
    }
  }

  @Test
  void slotsMovingUnderTheProbeAreRedirectsNotFailures() throws Exception {
    try (LoopbackValkey valkey = LoopbackValkey.withUsers(AclUsers.random())) {
      LoopbackCluster cluster = LoopbackCluster.start(valkey, 3, 0, host -> List.of());
      ValkeyProcess source = cluster.primaries().getFirst();
      ValkeyProcess target = cluster.primaries().get(1);
      try (ProbeSession session =
          new ProbeSession(
              // A generous timeout: a stall of this busy machine is not what this test is about.
              connector(valkey, target, Duration.ofSeconds(3)),
              new ProbeOptions(
                  Duration.ofMillis(2), Duration.ofSeconds(120), 100_000, Duration.ofHours(1)),
              Duration.ofSeconds(30),
              ProbeSession.newRunId())) {
        Thread writer = Thread.ofPlatform().name("probe").start(session::run);
        try {
          await("probe writes").atMost(Duration.ofSeconds(30)).until(() -> acked(session) >= 500);

          long started = System.nanoTime();
          cluster.moveSlots(0, 499, source, target);
          long movedMs = (System.nanoTime() - started) / 1_000_000;
          long before = session.attempts().size();
          await("more writes after the move")
              .atMost(Duration.ofSeconds(30))
              .until(() -> session.attempts().size() >= before + 500);

          session.stop();
          writer.join(Duration.ofSeconds(10));
          ProbeReport report = session.report();
          System.out.println(report.toText());
          System.out.printf(
              "500 slots moved in %d ms under the probe: %d MOVED and %d ASK redirects followed,"
                  + " %d failed writes%n",
              movedMs,
              report.cluster().movedRedirects(),
              report.cluster().askRedirects(),
              report.failedWrites());

          assertThat(report.cluster().movedRedirects() + report.cluster().askRedirects())
              .isPositive();
          assertThat(report.failedWrites()).as("redirects are not failures").isZero();
          assertThat(report.missingAckedWrites()).isZero();
          assertThat(report.verified()).isTrue();
          assertThat(shardAt(report, target).slots()).startsWith("0-499,");
        } finally {
          session.stop();
          writer.join(Duration.ofSeconds(10));
        }
      } catch (AssertionError | RuntimeException e) {
        valkey.printLogs();
        throw e;
      }
    }
  }
}
