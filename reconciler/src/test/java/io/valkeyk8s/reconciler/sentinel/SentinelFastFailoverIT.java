package io.valkeyk8s.reconciler.sentinel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.sentinel.api.StatefulRedisSentinelConnection;
import io.valkeyk8s.reconciler.kube.Controller;
import io.valkeyk8s.reconciler.testing.LogCapture;
import io.valkeyk8s.reconciler.valkey.NodeClient;
import io.valkeyk8s.testsupport.KubeApiServer;
import io.valkeyk8s.testsupport.KubeApiServerExtension;
import io.valkeyk8s.testsupport.SentinelSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.IntStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The crash fast path against real parts (kube-apiserver + etcd, valkey-server and valkey-sentinel
 * processes), the valkey containers' statuses written as a kubelet would. The Sentinels' down-after
 * is set to a minute, longer than any wait here: a failover within a wait is the fast path's, and
 * no failover within an observation window means the fast path stayed out.
 */
@ExtendWith(KubeApiServerExtension.class)
class SentinelFastFailoverIT {
  private static final Duration DOWN_AFTER = Duration.ofSeconds(60);

  /** How long a case that must not fail over is watched. */
  private static final Duration OBSERVE = Duration.ofSeconds(8);

  private static final String PRIMARY = SentinelScenario.podName(0);
  private final KubeApiServer api;
  private SentinelScenario s;
  private final Map<String, String> containerIds = new HashMap<>();

  SentinelFastFailoverIT(KubeApiServer api) {
    this.api = api;
  }

  @BeforeEach
  void start() throws Exception {
    s = new SentinelScenario(api);
    for (int i = 0; i < s.valkey.size(); i++) {
      String id = "containerd://" + UUID.randomUUID().toString().replace("-", "");
      containerIds.put(SentinelScenario.podName(i), id);
      s.pods.containerRunning(SentinelScenario.podName(i), id, 0);
      try (StatefulRedisConnection<String, String> c = s.valkey.connect(i)) {
        c.sync().configSet("min-replicas-to-write", "1");
      }
    }
    downAfter(DOWN_AFTER);
  }

  private void downAfter(Duration downAfter) {
    for (int i = 0; i < s.valkey.size(); i++) {
      try (StatefulRedisSentinelConnection<String, String> c =
          s.valkey.valkey().client().connectSentinel(s.valkey.sentinelUri(i))) {
        c.sync()
            .set(
                SentinelSet.MASTER,
                "down-after-milliseconds",
                String.valueOf(downAfter.toMillis()));
      }
    }
  }

  @AfterEach
  void stop() {
    s.close();
  }

  @Test
  void aKilledPrimaryReportedTerminatedIsFailedOverWithoutLosingAcknowledgedWrites()
      throws Exception {
    Controller r = s.startReconciler("r1");
    assertThat(s.awaitLabelOnSentinelPrimary()).isEqualTo(PRIMARY);
    List<String> missing;
    try (LogCapture log = new LogCapture();
        SentinelScenario.Writer writer = s.startWriter()) {
      writer.awaitMore(200);
      // Frozen first, so that only the kubelet's report can be evidence: a frozen process hangs
      // up no connection and its address still accepts them (RefusedConnection stays silent).
      s.valkey.freezeValkey(0);
      s.pods.containerTerminated(PRIMARY, containerIds.get(PRIMARY), 0);
      s.awaitFailoverAwayFrom(0);
      s.valkey.killValkey(0);
      assertThat(s.awaitLabelOnSentinelPrimary()).isNotEqualTo(PRIMARY);
      writer.awaitMore(200);
      missing = writer.stopAndFindMissing();
      assertThat(log.lines())
          .anyMatch(
              l ->
                  l.contains("action=fast-failover pod=" + PRIMARY + " evidence=kubelet")
                      && l.contains("container_id=" + containerIds.get(PRIMARY))
                      && l.contains("exit_code=137"));
    }
    assertThat(missing).as("acknowledged writes missing on the new primary").isEmpty();
    assertThat(fastFailovers(r)).isEqualTo(1.0);
    // One move, counted once (passes before the informer sees the new label must not add more).
    Awaitility.await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(5))
        .until(() -> labelMoves(r) == 1);
    s.assertNeverTwoLabelled();
  }

  @Test
  void aCrashReportedTooCloseToTheSentinelsDownAfterIsLeftToThem() throws Exception {
    // Less than FastFailover.MARGIN_MS: a forced failover could race the Sentinels' own.
    downAfter(Duration.ofSeconds(2));
    Controller r = s.startReconciler("r1");
    assertThat(s.awaitLabelOnSentinelPrimary()).isEqualTo(PRIMARY);
    List<String> missing;
    try (LogCapture log = new LogCapture();
        SentinelScenario.Writer writer = s.startWriter()) {
      writer.awaitMore(200);
      s.valkey.killValkey(0);
      s.pods.containerTerminated(PRIMARY, containerIds.get(PRIMARY), 0);
      s.awaitFailoverAwayFrom(0); // the Sentinels' own failover, after down-after
      assertThat(s.awaitLabelOnSentinelPrimary()).isNotEqualTo(PRIMARY);
      writer.awaitMore(200);
      missing = writer.stopAndFindMissing();
      assertThat(log.lines())
          .anyMatch(
              l ->
                  l.contains("action=fast-failover-skipped pod=" + PRIMARY)
                      && l.contains("down-after 2000 ms"))
          .noneMatch(l -> l.contains("action=fast-failover pod="));
    }
    assertThat(missing).as("acknowledged writes missing on the new primary").isEmpty();
    assertThat(fastFailovers(r)).isZero();
    s.assertNeverTwoLabelled();
  }

  @Test
  void aRestartReportedWhileThePodWasAReplicaIsNoEvidenceOnceItIsPrimary() throws Exception {
    Controller r = s.startReconciler("r1");
    assertThat(s.awaitLabelOnSentinelPrimary()).isEqualTo(PRIMARY);
    String one = SentinelScenario.podName(1);
    s.movePrimaryTo(1); // the reconciler sees node 1's container running as the primary's
    awaitInSyncReplica(0); // a replica that just changed primary is no failover candidate yet
    s.movePrimaryTo(0);
    // Node 1, a replica now, restarts (as after a kill -9 the Sentinels handled before the
    // kubelet's report arrived); the status reaches the reconciler while node 0 is primary.
    s.pods.containerRestarted(
        one, containerIds.get(one), "containerd://" + UUID.randomUUID().toString(), 1);
    Thread.sleep(2000); // passes with node 0 primary (the pod update wakes one)
    awaitInSyncReplica(1);
    s.movePrimaryTo(1);
    // The old restart must not count as the new primary's crash: no failover of a live primary.
    await()
        .during(OBSERVE)
        .atMost(OBSERVE.plusSeconds(5))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> primaryNode() == 1 && s.watch.labelledPods().equals(List.of(one)));
    assertThat(fastFailovers(r)).isZero();
    s.assertNeverTwoLabelled();
  }

  @Test
  void aKilledPrimaryTheKubeletRestartedIsFailedOver() throws Exception {
    Controller r = s.startReconciler("r1");
    assertThat(s.awaitLabelOnSentinelPrimary()).isEqualTo(PRIMARY);
    // The terminated state was never seen: the kubelet restarted the container at once. The
    // restarted container's entrypoint waits for the Sentinels to name another primary; here
    // nothing runs on node 0. Frozen before the report, so that the report is the evidence.
    s.valkey.freezeValkey(0);
    s.pods.containerRestarted(
        PRIMARY, containerIds.get(PRIMARY), "containerd://" + UUID.randomUUID(), 1);
    s.awaitFailoverAwayFrom(0);
    s.valkey.killValkey(0);
    assertThat(s.awaitLabelOnSentinelPrimary()).isNotEqualTo(PRIMARY);
    assertThat(fastFailovers(r)).isEqualTo(1.0);
    s.assertNeverTwoLabelled();
  }

  @Test
  void aKilledPrimaryWhosePodStillReportsRunningIsFailedOverOnItsRefusedAddress() throws Exception {
    Controller r = s.startReconciler("r1");
    assertThat(s.awaitLabelOnSentinelPrimary()).isEqualTo(PRIMARY);
    List<String> missing;
    try (LogCapture log = new LogCapture();
        SentinelScenario.Writer writer = s.startWriter()) {
      writer.awaitMore(200);
      s.valkey.killValkey(0); // the pod's status says running throughout: no kubelet report
      s.awaitFailoverAwayFrom(0);
      assertThat(s.awaitLabelOnSentinelPrimary()).isNotEqualTo(PRIMARY);
      writer.awaitMore(200);
      missing = writer.stopAndFindMissing();
      assertThat(log.lines())
          .anyMatch(
              l ->
                  l.contains("action=fast-failover pod=" + PRIMARY + " evidence=connection-refused")
                      && l.contains("refuses connections"));
    }
    assertThat(missing).as("acknowledged writes missing on the new primary").isEmpty();
    assertThat(fastFailovers(r)).isEqualTo(1.0);
    s.assertNeverTwoLabelled();
  }

  @Test
  void aLivePrimaryWhoseNewConnectionsAreRejectedIsNoEvidence() throws Exception {
    Controller r = s.startReconciler("r1");
    assertThat(s.awaitLabelOnSentinelPrimary()).isEqualTo(PRIMARY);
    try (LogCapture log = new LogCapture();
        StatefulRedisConnection<String, String> admin = s.valkey.connect(0);
        RejectedConnects rejected = new RejectedConnects(s.valkey.ip(0), s.valkey.valkeyPort())) {
      // As a NetworkPolicy that starts answering new connections with a reset: established ones
      // (the Sentinels') stay up. The reconciler's own connection is closed by the server, as by
      // a CLIENT KILL or a client timeout, so it hangs up and its reconnect is refused.
      long own = admin.sync().clientId();
      for (String line : admin.sync().clientList().split("\n")) {
        Map<String, String> client = NodeClient.clientFields(line);
        if ("N".equals(client.get("flags")) // not a replica's link, not a subscriber
            && !client.getOrDefault("name", "").startsWith("sentinel-")
            && !String.valueOf(own).equals(client.get("id"))) {
          admin
              .sync()
              .clientKill(io.lettuce.core.KillArgs.Builder.id(Long.parseLong(client.get("id"))));
        }
      }
      assertPrimaryStaysOnNodeZero();
      assertThat(log.lines())
          .anyMatch(
              l ->
                  l.contains(
                          "action=fast-failover-skipped pod="
                              + PRIMARY
                              + " evidence=connection-refused")
                      && l.contains("report their link to it disconnected"))
          .noneMatch(l -> l.contains("action=fast-failover pod="));
    }
    assertThat(fastFailovers(r)).isZero();
    s.assertNeverTwoLabelled();
  }

  /**
   * A real firewall rule for the time of a test: new TCP connections to the address are answered
   * with a reset (refused), established ones pass. Needs root and iptables (scripts/setup).
   */
  private static final class RejectedConnects implements AutoCloseable {
    private final List<String> rule;

    RejectedConnects(String ip, int port) throws Exception {
      rule =
          List.of(
              "INPUT",
              "-p",
              "tcp",
              "-d",
              ip,
              "--dport",
              String.valueOf(port),
              "--syn",
              "-j",
              "REJECT",
              "--reject-with",
              "tcp-reset");
      iptables("-I");
    }

    private void iptables(String op) throws Exception {
      List<String> command = new ArrayList<>(List.of("iptables", "-w", "5", op));
      command.addAll(rule);
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      assertThat(p.waitFor()).as("%s: %s", command, out).isZero();
    }

    @Override
    public void close() throws Exception {
      iptables("-D");
    }
  }

  @Test
  void aFrozenPrimaryWhoseContainerStillRunsStaysTheSentinelsDecision() throws Exception {
    Controller r = s.startReconciler("r1");
    assertThat(s.awaitLabelOnSentinelPrimary()).isEqualTo(PRIMARY);
    s.valkey.freezeValkey(0);
    try {
      assertPrimaryStaysOnNodeZero();
    } finally {
      s.valkey.thawValkey(0);
    }
    assertThat(s.awaitLabelOnSentinelPrimary()).isEqualTo(PRIMARY);
    assertThat(fastFailovers(r)).isZero();
    s.assertNeverTwoLabelled();
  }

  @Test
  void aForceDeletedPrimaryPodIsNoEvidence() throws Exception {
    Controller r = s.startReconciler("r1");
    assertThat(s.awaitLabelOnSentinelPrimary()).isEqualTo(PRIMARY);
    // As after a lost node: the pod object is gone, its container may still run (here it does).
    s.client.pods().inNamespace(s.pods.namespace()).withName(PRIMARY).withGracePeriod(0).delete();
    await().atMost(SentinelScenario.CONVERGE).until(() -> s.pods.get(PRIMARY) == null);
    await()
        .during(OBSERVE)
        .atMost(OBSERVE.plusSeconds(5))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> primaryNode() == 0);
    assertThat(fastFailovers(r)).isZero();
    s.assertNeverTwoLabelled();
  }

  @Test
  void switchedOffTheCrashWaitsForDownAfter() throws Exception {
    Map<String, String> env = s.env("r1");
    env.put("VALKEY_FAST_FAILOVER", "false");
    Controller r = s.startReconciler(env);
    assertThat(s.awaitLabelOnSentinelPrimary()).isEqualTo(PRIMARY);
    try (LogCapture log = new LogCapture()) {
      s.valkey.killValkey(0);
      s.pods.containerTerminated(PRIMARY, containerIds.get(PRIMARY), 0);
      await()
          .during(OBSERVE)
          .atMost(OBSERVE.plusSeconds(5))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> primaryNode() == 0);
      assertThat(log.lines()).noneMatch(l -> l.contains("action=fast-failover"));
    }
    assertThat(fastFailovers(r)).isZero();
    s.assertNeverTwoLabelled();
  }

  /** Waits until every Sentinel reports this node as a replica with its link to the primary up. */
  private void awaitInSyncReplica(int node) {
    await()
        .atMost(SentinelScenario.CONVERGE)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                IntStream.range(0, s.valkey.size())
                    .allMatch(
                        i ->
                            s.valkey.replicasKnownBy(i).stream()
                                .anyMatch(
                                    r ->
                                        s.valkey.ip(node).equals(r.get("ip"))
                                            && "ok".equals(r.get("master-link-status")))));
  }

  /** Watches the Sentinels and the label for the observation window: both stay on node 0. */
  private void assertPrimaryStaysOnNodeZero() {
    await()
        .during(OBSERVE)
        .atMost(OBSERVE.plusSeconds(5))
        .pollInterval(Duration.ofMillis(100))
        .until(() -> primaryNode() == 0 && s.watch.labelledPods().equals(List.of(PRIMARY)));
  }

  /** The node a majority of the Sentinels names, -1 when there is no majority. */
  private int primaryNode() {
    return s.valkey.primaryBySentinels().map(a -> s.valkey.nodeOf(a.getHostString())).orElse(-1);
  }

  private static long labelMoves(Controller r) {
    return r.registry().get("valkey_reconciler_label_move").timer().count();
  }

  private static double fastFailovers(Controller r) {
    return r.registry().get("valkey_reconciler_fast_failovers").counter().count();
  }
}
