package io.valkeyk8s.testserver.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.valkeyk8s.testserver.ValkeyTarget;
import io.valkeyk8s.testserver.local.SwitchMasterFollower;
import io.valkeyk8s.testserver.local.TcpForwarder;
import io.valkeyk8s.testsupport.AclUsers;
import io.valkeyk8s.testsupport.LoopbackValkey;
import io.valkeyk8s.testsupport.ValkeyProcess;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real failover under the probe: primary + 2 replicas + 3 Sentinels on loopback, the probe
 * writing through a fixed address (a forwarder that follows {@code +switch-master}, standing in for
 * the primary Service), the primary killed with SIGKILL. The probe must see the outage and lose no
 * acknowledged write.
 */
class FailoverProbeIT {
  private static final Duration COMMAND_TIMEOUT = Duration.ofMillis(250);

  @TempDir Path dir;

  @Test
  void probeReportsTheFailoverAndNoAcknowledgedWriteIsLost() throws Exception {
    try (LoopbackValkey valkey = LoopbackValkey.withUsers(AclUsers.random())) {
      try {
        runFailover(valkey);
      } catch (AssertionError | RuntimeException e) {
        valkey.printLogs();
        throw e;
      }
    }
  }

  private void runFailover(LoopbackValkey valkey) throws Exception {
    // Every node refuses writes without a replica in sync, as the chart's Sentinel mode does.
    List<String> minReplicas = List.of("min-replicas-to-write 1", "min-replicas-max-lag 10");
    ValkeyProcess primary = valkey.startServer("primary", valkey.newHost(), minReplicas);
    List<String> replicaOf = new ArrayList<>(minReplicas);
    replicaOf.add("replicaof " + primary.host() + " " + primary.port());
    List<ValkeyProcess> replicas =
        List.of(
            valkey.startServer("replica1", valkey.newHost(), replicaOf),
            valkey.startServer("replica2", valkey.newHost(), replicaOf));
    // Killing before the first sync is done would end the failover by timeout, not promotion.
    await("replicas in sync")
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                replicas.stream()
                    .allMatch(
                        r ->
                            valkey
                                .call(r, c -> c.info("replication"))
                                .contains("master_link_status:up")));
    List<ValkeyProcess> sentinels = new ArrayList<>();
    for (String name : List.of("sentinel1", "sentinel2", "sentinel3")) {
      sentinels.add(
          valkey.startSentinel(
              name,
              valkey.newHost(),
              SwitchMasterFollower.MASTER_NAME,
              primary.address(),
              List.of(
                  "sentinel down-after-milliseconds " + SwitchMasterFollower.MASTER_NAME + " 1000",
                  "sentinel failover-timeout " + SwitchMasterFollower.MASTER_NAME + " 10000",
                  "sentinel parallel-syncs " + SwitchMasterFollower.MASTER_NAME + " 1")));
    }
    await("Sentinels know each other and both replicas")
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                sentinels.stream()
                    .allMatch(
                        s ->
                            valkey
                                .call(s, c -> c.info("sentinel"))
                                .contains(
                                    "status=ok,address="
                                        + primary.host()
                                        + ":"
                                        + primary.port()
                                        + ",slaves=2,sentinels=3")));

    InetSocketAddress primaryAddress = new InetSocketAddress(primary.host(), primary.port());
    try (TcpForwarder service = new TcpForwarder(primaryAddress);
        SwitchMasterFollower follower = new SwitchMasterFollower(valkey, sentinels, service);
        ProbeSession session =
            new ProbeSession(
                new ValkeyTarget(
                    service.host(),
                    service.port(),
                    "client",
                    valkey.users().orElseThrow().clientPassword()),
                COMMAND_TIMEOUT,
                new ProbeOptions(
                    Duration.ofMillis(20), Duration.ofSeconds(90), 10_000, Duration.ofHours(1)),
                Duration.ofSeconds(30),
                ProbeSession.newRunId())) {
      Thread writer = Thread.ofPlatform().name("probe").start(session::run);
      try {
        ProbeLogView log = new ProbeLogView(session);
        await("probe writes").atMost(Duration.ofSeconds(20)).until(() -> log.acked() >= 50);

        long killedAt = System.nanoTime();
        primary.kill();

        await("the Service follows +switch-master")
            .atMost(Duration.ofSeconds(30))
            .until(() -> !service.upstream().equals(primaryAddress));
        await("writes succeed again for a while after the outage")
            .atMost(Duration.ofSeconds(60))
            .until(() -> log.ackedAfterLastWindow() >= 50);
        long recoveredAfterKillMs =
            (log.lastWindowEndNanos() - (killedAt - log.originNanos())) / 1_000_000;

        session.stop();
        writer.join(Duration.ofSeconds(10));
        ProbeReport report = session.report();

        System.out.println(report.toText());
        System.out.println("switch: " + follower.lastSwitch());
        System.out.printf(
            "measured downtime: %d ms unavailable in %d window(s); kill -9 to first"
                + " acknowledged write on the new primary: %d ms%n",
            report.unavailableMs(), report.windows().size(), recoveredAfterKillMs);

        assertThat(report.windows()).isNotEmpty();
        assertThat(report.windows()).noneMatch(ProbeReport.Window::ongoing);
        assertThat(report.verified()).as("every acknowledged write was read back").isTrue();
        assertThat(report.missingAckedWrites()).as("acknowledged writes lost").isZero();
        assertThat(report.ackedWrites()).isGreaterThanOrEqualTo(100);
        assertThat(service.upstream())
            .isIn(replicas.stream().map(r -> new InetSocketAddress(r.host(), r.port())).toList());
      } finally {
        session.stop();
        writer.join(Duration.ofSeconds(10));
      }
    }
  }

  /** Reads the probe's progress while it runs. */
  private record ProbeLogView(ProbeSession session) {
    long acked() {
      return session.attempts().stream().filter(WriteAttempt::isAcked).count();
    }

    /** Acknowledged writes after the last closed window; 0 while no window has closed. */
    long ackedAfterLastWindow() {
      List<WriteAttempt> attempts = session.attempts();
      List<UnavailabilityWindow> windows = UnavailabilityWindows.of(attempts);
      if (windows.isEmpty() || windows.getLast().ongoing()) {
        return 0;
      }
      long end = windows.getLast().endNanos();
      return attempts.stream().filter(a -> a.isAcked() && a.endNanos() >= end).count();
    }

    long lastWindowEndNanos() {
      return UnavailabilityWindows.of(session.attempts()).getLast().endNanos();
    }

    long originNanos() {
      return session.clock().originNanos();
    }
  }
}
