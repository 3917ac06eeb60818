package io.valkeyk8s.reconciler.sentinel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PodBuilder;
import io.valkeyk8s.reconciler.kube.Controller;
import io.valkeyk8s.testsupport.KubeApiServer;
import io.valkeyk8s.testsupport.KubeApiServerExtension;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Sentinel mode against real parts: kube-apiserver + etcd, valkey-server and valkey-sentinel
 * processes. Every scenario ends with the label on the pod the Sentinels elected, and a watch on
 * the pods never saw two labelled pods.
 */
@ExtendWith(KubeApiServerExtension.class)
class SentinelModeIT {
  private final KubeApiServer api;
  private SentinelScenario s;

  SentinelModeIT(KubeApiServer api) {
    this.api = api;
  }

  @BeforeEach
  void start() throws Exception {
    s = scenario(api);
  }

  /** The world of each scenario (SentinelModeTlsIT runs the same scenarios over TLS). */
  SentinelScenario scenario(KubeApiServer api) throws Exception {
    return new SentinelScenario(api);
  }

  @AfterEach
  void stop() {
    s.close();
  }

  @Test
  void labelsTheInitialPrimary() throws Exception {
    Controller r = s.startReconciler("r1");
    assertThat(s.awaitLabelOnSentinelPrimary()).isEqualTo("valkey-0");
    await().atMost(SentinelScenario.CONVERGE).until(() -> r.health().isReady());
    // The change is recorded as an Event on the pod.
    await()
        .atMost(SentinelScenario.CONVERGE)
        .until(
            () ->
                s.client.v1().events().inNamespace(s.pods.namespace()).list().getItems().stream()
                    .anyMatch(
                        e ->
                            "PrimaryLabelAdded".equals(e.getReason())
                                && "valkey-0".equals(e.getInvolvedObject().getName())));
    s.assertNeverTwoLabelled();
  }

  @Test
  void movesTheLabelAfterKillOfThePrimary() throws Exception {
    Controller r = s.startReconciler("r1");
    String before = s.awaitLabelOnSentinelPrimary();
    s.valkey.killValkey(SentinelScenario.nodeOf(before));
    s.awaitFailoverAwayFrom(SentinelScenario.nodeOf(before));
    assertThat(s.awaitLabelOnSentinelPrimary()).isNotEqualTo(before);
    // The restarted node must not take the label from the primary the Sentinels settled on.
    String after = s.awaitSettledFailoverAwayFrom(SentinelScenario.nodeOf(before));
    assertThat(after).isNotEqualTo(before);
    s.valkey.restartValkeyAsReplica(SentinelScenario.nodeOf(before));
    s.valkey.awaitStable();
    assertThat(s.awaitLabelOnSentinelPrimary()).isEqualTo(after);
    s.assertNeverTwoLabelled();
    String metrics =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + r.httpPort() + "/metrics"))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString())
            .body();
    assertThat(metrics)
        .containsPattern("valkey_reconciler_failovers_total [1-9]")
        .containsPattern("valkey_reconciler_label_move_seconds_count [1-9]")
        .contains("valkey_reconciler_label_move_seconds_bucket")
        .contains("valkey_reconciler_sentinels_connected 3.0");
  }

  @Test
  void aFrozenPrimaryComesBackAsAReplicaAndLosesItsClients() throws Exception {
    s.startReconciler("r1");
    String before = s.awaitLabelOnSentinelPrimary();
    int zombie = SentinelScenario.nodeOf(before);
    try (Socket client = authenticatedClient(zombie)) {
      s.valkey.freezeValkey(zombie);
      s.awaitFailoverAwayFrom(zombie);
      String after = s.awaitLabelOnSentinelPrimary();
      assertThat(after).isNotEqualTo(before);
      s.valkey.thawValkey(zombie);
      await()
          .atMost(SentinelScenario.CONVERGE)
          .until(() -> s.valkey.role(zombie).equals(java.util.Optional.of("slave")));
      await().atMost(SentinelScenario.CONVERGE).until(() -> isClosedByServer(client));
      assertThat(s.awaitLabelOnSentinelPrimary()).isEqualTo(after);
    }
    s.assertNeverTwoLabelled();
  }

  @Test
  void twentyFailoversInARow() throws Exception {
    s.startReconciler("r1");
    String primary = s.awaitLabelOnSentinelPrimary();
    for (int i = 0; i < 20; i++) {
      int node = SentinelScenario.nodeOf(primary);
      s.valkey.killValkey(node);
      s.awaitFailoverAwayFrom(node);
      String next = s.awaitLabelOnSentinelPrimary();
      assertThat(next).as("failover %d", i + 1).isNotEqualTo(primary);
      s.valkey.restartValkeyAsReplica(node);
      s.valkey.awaitStable();
      primary = s.awaitLabelOnSentinelPrimary();
    }
    s.assertNeverTwoLabelled();
  }

  @Test
  void aSentinelRestartDuringAFailover() throws Exception {
    s.startReconciler("r1");
    String before = s.awaitLabelOnSentinelPrimary();
    int node = SentinelScenario.nodeOf(before);
    int sentinel = (node + 1) % s.valkey.size();
    s.valkey.killValkey(node);
    Thread.sleep(300); // inside down-after: the failover has not started yet
    s.valkey.killSentinel(sentinel);
    s.awaitFailoverAwayFrom(node);
    s.valkey.restartSentinel(sentinel);
    String after = s.awaitLabelOnSentinelPrimary();
    assertThat(after).isNotEqualTo(before);
    s.valkey.restartValkeyAsReplica(node);
    s.valkey.awaitStable();
    assertThat(s.awaitLabelOnSentinelPrimary()).isEqualTo(after);
    s.assertNeverTwoLabelled();
  }

  @Test
  void anApiServerRestartDuringAFailover() throws Exception {
    Controller r = s.startReconciler("r1");
    String before = s.awaitLabelOnSentinelPrimary();
    await().atMost(SentinelScenario.CONVERGE).until(() -> r.health().isReady());
    int node = SentinelScenario.nodeOf(before);
    List<String> apiServer = api.stopApiServer();
    try {
      s.valkey.killValkey(node);
      s.awaitFailoverAwayFrom(node);
      await().atMost(SentinelScenario.CONVERGE).until(() -> !r.health().isReady());
    } finally {
      api.startApiServer(apiServer);
    }
    String after = s.awaitLabelOnSentinelPrimary();
    assertThat(after).isNotEqualTo(before);
    await().atMost(SentinelScenario.CONVERGE).until(() -> r.health().isReady());
    s.assertNeverTwoLabelled();
  }

  @Test
  void aReconcilerRestartDuringAFailover() throws Exception {
    Controller first = s.startReconciler("r1");
    String before = s.awaitLabelOnSentinelPrimary();
    int node = SentinelScenario.nodeOf(before);
    s.valkey.killValkey(node);
    s.stopReconciler(first); // down while the Sentinels fail over: the +switch-master is missed
    s.awaitFailoverAwayFrom(node);
    assertThat(s.watch.labelledPods()).containsExactly(before);
    s.startReconciler("r2");
    assertThat(s.awaitLabelOnSentinelPrimary()).isNotEqualTo(before);
    s.assertNeverTwoLabelled();
  }

  @Test
  void putsBackALabelRemovedByHand() throws Exception {
    s.startReconciler("r1");
    String primary = s.awaitLabelOnSentinelPrimary();
    long labelledAt = s.watch.labelledAt(primary).orElseThrow();
    s.client
        .pods()
        .inNamespace(s.pods.namespace())
        .withName(primary)
        .edit(
            p ->
                new PodBuilder(p)
                    .editMetadata()
                    .removeFromLabels(SentinelScenario.LABEL)
                    .endMetadata()
                    .build());
    // The watch saw the label go and come back (the pod watch repairs it within moments).
    await()
        .atMost(SentinelScenario.CONVERGE)
        .until(() -> s.watch.labelledAt(primary).map(t -> t > labelledAt).orElse(false));
    assertThat(s.awaitLabelOnSentinelPrimary()).isEqualTo(primary);
    s.assertNeverTwoLabelled();
  }

  @Test
  void labelsARecreatedPrimaryPod() throws Exception {
    s.startReconciler("r1");
    String primary = s.awaitLabelOnSentinelPrimary();
    String oldUid = s.pods.get(primary).getMetadata().getUid();
    s.pods.recreate(primary, s.valkey.ip(SentinelScenario.nodeOf(primary)));
    await()
        .atMost(SentinelScenario.CONVERGE)
        .untilAsserted(
            () -> {
              var pod = s.pods.get(primary);
              assertThat(pod.getMetadata().getUid()).isNotEqualTo(oldUid);
              assertThat(pod.getMetadata().getLabels())
                  .containsEntry(SentinelScenario.LABEL, "true");
            });
    assertThat(s.awaitLabelOnSentinelPrimary()).isEqualTo(primary);
    s.assertNeverTwoLabelled();
  }

  @Test
  void removesALabelAddedByHandAndDisconnectsThatPodsClients() throws Exception {
    s.startReconciler("r1");
    String primary = s.awaitLabelOnSentinelPrimary();
    int replica = (SentinelScenario.nodeOf(primary) + 1) % s.valkey.size();
    try (Socket client = authenticatedClient(replica)) {
      s.client
          .pods()
          .inNamespace(s.pods.namespace())
          .withName(SentinelScenario.podName(replica))
          .edit(
              p ->
                  new PodBuilder(p)
                      .editMetadata()
                      .addToLabels(SentinelScenario.LABEL, "true")
                      .endMetadata()
                      .build());
      await().atMost(SentinelScenario.CONVERGE).until(() -> isClosedByServer(client));
    }
    assertThat(s.awaitLabelOnSentinelPrimary()).isEqualTo(primary);
    // The hand edit itself made two labelled pods; the reconciler must never add a second one.
  }

  @Test
  void twoReplicasOneLeaderAndTheOtherTakesOver() throws Exception {
    Controller a = s.startReconciler("r1");
    Controller b = s.startReconciler("r2");
    String primary = s.awaitLabelOnSentinelPrimary();
    await().atMost(SentinelScenario.CONVERGE).until(() -> a.isLeader() ^ b.isLeader());
    Controller leader = a.isLeader() ? a : b;
    Controller standby = leader == a ? b : a;

    int node = SentinelScenario.nodeOf(primary);
    s.valkey.killValkey(node);
    s.awaitFailoverAwayFrom(node);
    primary = s.awaitLabelOnSentinelPrimary();
    s.valkey.restartValkeyAsReplica(node);
    s.valkey.awaitStable();

    s.stopReconciler(leader); // releases the Lease
    await().atMost(SentinelScenario.CONVERGE).until(standby::isLeader);
    node = SentinelScenario.nodeOf(primary);
    s.valkey.killValkey(node);
    s.awaitFailoverAwayFrom(node);
    assertThat(s.awaitLabelOnSentinelPrimary()).isNotEqualTo(primary);
    s.assertNeverTwoLabelled();
  }

  @Test
  void handsOverATerminatingPrimaryWithoutLosingAcknowledgedWrites() throws Exception {
    s.startReconciler("r1");
    String before = s.awaitLabelOnSentinelPrimary();
    List<String> missing;
    try (SentinelScenario.Writer writer = s.startWriter()) {
      writer.awaitMore(200);
      // A terminating pod, as a rolling update leaves it (a finalizer holds it without a kubelet).
      s.terminate(before);
      s.awaitFailoverAwayFrom(SentinelScenario.nodeOf(before));
      String after = s.awaitLabelOnSentinelPrimary();
      assertThat(after).isNotEqualTo(before);
      writer.awaitMore(200);
      missing = writer.stopAndFindMissing();
    } finally {
      s.releaseTerminating(before);
    }
    assertThat(missing).as("acknowledged writes missing on the new primary").isEmpty();
    s.assertNeverTwoLabelled();
  }

  /**
   * The termination changes the read Service's endpoints, kube-proxy syncs for that at once and
   * then holds the next change back for its minSyncPeriod: the handover waits that long with the
   * primary taking writes, so that the route's switch is not held back with writes paused.
   */
  @Test
  void aTerminatingPrimaryTakesWritesUntilKubeProxysMinSyncPeriodHasPassed() throws Exception {
    Map<String, String> env = new HashMap<>(s.env("r1"));
    env.put("VALKEY_KUBE_PROXY_MIN_SYNC_MS", "4000");
    s.startReconciler(env);
    String before = s.awaitLabelOnSentinelPrimary();
    List<String> missing;
    try (SentinelScenario.Writer writer = s.startWriter()) {
      writer.awaitMore(100);
      s.terminate(before);
      Thread.sleep(2000);
      int acknowledged = writer.acknowledged();
      Thread.sleep(500);
      assertThat(writer.acknowledged())
          .as("writes acknowledged 2.0-2.5 s after the pod started terminating")
          .isGreaterThan(acknowledged + 10);
      assertThat(s.sentinelPrimaryPod()).isEqualTo(before);
      s.awaitFailoverAwayFrom(SentinelScenario.nodeOf(before));
      assertThat(s.awaitLabelOnSentinelPrimary()).isNotEqualTo(before);
      writer.awaitMore(200);
      missing = writer.stopAndFindMissing();
    } finally {
      s.releaseTerminating(before);
    }
    assertThat(missing).as("acknowledged writes missing on the new primary").isEmpty();
    s.assertNeverTwoLabelled();
  }

  /** A socket authenticated as admin on node i: a client the server may disconnect. */
  private Socket authenticatedClient(int node) throws IOException {
    Socket socket = s.socketTo(node);
    OutputStream out = socket.getOutputStream();
    out.write(
        ("AUTH admin " + s.valkey.users().adminPassword() + "\r\n")
            .getBytes(StandardCharsets.US_ASCII));
    out.flush();
    byte[] ok = socket.getInputStream().readNBytes(5);
    assertThat(new String(ok, StandardCharsets.US_ASCII)).isEqualTo("+OK\r\n");
    return socket;
  }

  private static boolean isClosedByServer(Socket socket) {
    try {
      socket.setSoTimeout(50);
      InputStream in = socket.getInputStream();
      return in.read() == -1;
    } catch (SocketTimeoutException stillOpen) {
      return false;
    } catch (IOException reset) {
      return true;
    }
  }
}
