package io.valkeyk8s.reconciler.sentinel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.valkeyk8s.reconciler.kube.Controller;
import io.valkeyk8s.reconciler.testing.LogCapture;
import io.valkeyk8s.testsupport.KubeApiServer;
import io.valkeyk8s.testsupport.KubeApiServerExtension;
import io.valkeyk8s.testsupport.LoopbackTls;
import io.valkeyk8s.testsupport.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * TLS failures and renewals against real TLS-only Valkey and Sentinel processes: a certificate the
 * reconciler must not trust leaves it not ready, says once which endpoint failed verification and
 * why, and writes no label on what it could not verify; renewed certificates and a renewed CA are
 * picked up without a restart; and the original tool's own setup (one TLS Sentinel with a password,
 * verification skipped by an explicit setting) works as a drop-in.
 */
@ExtendWith(KubeApiServerExtension.class)
class SentinelTlsIT {
  /** Longer than a few resyncs (RESYNC_SECONDS 2) and certificate reloads. */
  private static final Duration WHILE = Duration.ofSeconds(5);

  private final KubeApiServer api;
  private LoopbackTls tls;
  private SentinelScenario s;

  SentinelTlsIT(KubeApiServer api) {
    this.api = api;
  }

  @BeforeEach
  void start() throws Exception {
    s = new SentinelScenario(api, "yes");
    tls = s.tls.orElseThrow();
  }

  @AfterEach
  void stop() {
    s.close();
  }

  @Test
  void aWrongCaLeavesItUnreadyWithOneLineNamingTheSentinelAndNoLabel() throws Exception {
    Path otherCa =
        TestCertificates.create(Files.createTempDirectory("other-ca"), "nobody").caFile();
    Map<String, String> env = s.env("r1");
    env.put("VALKEY_TLS_CA_FILE", otherCa.toString());
    String seed = s.valkey.ip(0) + ":" + s.valkey.sentinelPort();
    try (LogCapture log = new LogCapture()) {
      Controller r = s.startReconciler(env);
      await()
          .during(WHILE)
          .atMost(WHILE.multipliedBy(3))
          .until(() -> !r.health().isReady() && s.watch.labelledPods().isEmpty());
      List<String> lines =
          log.linesWith("action=seed-unreachable sentinel=" + seed, "not signed by a trusted CA");
      assertThat(lines).as("one line, not one per retry: %s", log.lines()).hasSize(1);
      // At most once more if the seed's Sentinel is also tried as a member.
      assertThat(log.linesWith("sentinel=" + seed, "not signed by a trusted CA"))
          .hasSizeLessThanOrEqualTo(2);
    }
    assertThat(s.watch.maxLabelled()).isZero();
  }

  @Test
  void expiredSentinelCertificatesThenRenewedOnesWithoutARestart() throws Exception {
    for (int i = 0; i < s.valkey.size(); i++) {
      String host = s.valkey.ip(i);
      tls.replaceCertificate(
          s.valkey.sentinel(i), tls.ca().expiredServer("expired-" + i, List.of(host)));
    }
    Thread.sleep(LoopbackTls.RELOAD.multipliedBy(3).toMillis());
    String seed = s.valkey.ip(0) + ":" + s.valkey.sentinelPort();
    try (LogCapture log = new LogCapture()) {
      Controller r = s.startReconciler("r1");
      await()
          .during(WHILE)
          .atMost(WHILE.multipliedBy(3))
          .until(() -> !r.health().isReady() && s.watch.labelledPods().isEmpty());
      // Once as the seed, at most once more as a member (the pod's Sentinel): no line per retry.
      assertThat(log.linesWith("action=seed-unreachable sentinel=" + seed, "expired")).hasSize(1);
      assertThat(log.linesWith("sentinel=" + seed, "expired")).hasSizeLessThanOrEqualTo(2);

      // The certificates are renewed in place: the same reconciler connects and labels.
      for (int i = 0; i < s.valkey.size(); i++) {
        tls.replaceCertificate(
            s.valkey.sentinel(i), tls.ca().server("renewed-" + i, List.of(s.valkey.ip(i))));
      }
      assertThat(s.awaitLabelOnSentinelPrimary()).isEqualTo("valkey-0");
      await().atMost(SentinelScenario.CONVERGE).until(() -> r.health().isReady());
    }
    s.assertNeverTwoLabelled();
  }

  @Test
  void aPrimaryWhoseCertificateDoesNotNameItIsNeverLabelled() throws Exception {
    s.startReconciler("r1");
    String before = s.awaitLabelOnSentinelPrimary();
    int old = SentinelScenario.nodeOf(before);
    // Every other server presents a certificate for another address.
    for (int i = 0; i < s.valkey.size(); i++) {
      if (i != old) {
        tls.replaceCertificate(
            s.valkey.server(i), tls.ca().server("elsewhere-" + i, List.of("10.9.8." + (i + 1))));
      }
    }
    Thread.sleep(LoopbackTls.RELOAD.multipliedBy(3).toMillis());
    try (LogCapture log = new LogCapture()) {
      s.valkey.killValkey(old);
      s.awaitFailoverAwayFrom(old);
      String promoted = s.sentinelPrimaryPod();
      String address = s.valkey.ip(SentinelScenario.nodeOf(promoted)) + ":" + s.valkey.valkeyPort();
      // The Sentinels moved on; the reconciler cannot verify the new primary: no label change.
      await()
          .during(WHILE)
          .atMost(WHILE.multipliedBy(3))
          .until(() -> s.watch.labelledPods().equals(List.of(before)));
      assertThat(log.linesWith("node=" + address, "does not name this host"))
          .as("%s", log.lines())
          .hasSize(1);

      tls.replaceCertificate(
          s.valkey.server(SentinelScenario.nodeOf(promoted)),
          tls.ca().server("fixed", List.of(s.valkey.ip(SentinelScenario.nodeOf(promoted)))));
      assertThat(s.awaitLabelOnSentinelPrimary()).isEqualTo(promoted);
    }
    s.assertNeverTwoLabelled();
  }

  @Test
  void theOriginalToolsSetupOneTlsSentinelWithAPasswordVerificationSkipped() throws Exception {
    Map<String, String> env = s.env("r1");
    // As the original tool was configured: one Sentinel host, its password, TLS without a CA.
    env.put("VALKEY_SENTINEL_HOST", s.valkey.ip(1));
    env.remove("VALKEY_TLS_CA_FILE");
    env.put("VALKEY_TLS_INSECURE_SKIP_VERIFY", "true");
    s.startReconciler(env);
    String before = s.awaitLabelOnSentinelPrimary();
    s.valkey.killValkey(SentinelScenario.nodeOf(before));
    s.awaitFailoverAwayFrom(SentinelScenario.nodeOf(before));
    assertThat(s.awaitLabelOnSentinelPrimary()).isNotEqualTo(before);
    s.assertNeverTwoLabelled();
  }

  @Test
  void aRenewedCaIsTrustedForNewConnectionsWithoutARestart() throws Exception {
    Controller r = s.startReconciler("r1");
    String before = s.awaitLabelOnSentinelPrimary();
    // Rotation as with a mounted Secret: old + new CA, certificates of the new CA, old CA gone.
    tls.rotateCa();
    Thread.sleep(LoopbackTls.RELOAD.multipliedBy(3).toMillis());
    tls.dropOldCas();
    Thread.sleep(LoopbackTls.RELOAD.multipliedBy(3).toMillis());
    // New connections everywhere: Sentinels restarted, the primary killed (ROLE on the promoted
    // replica is a first connection). Only the new CA can verify any of them now.
    for (int i = 0; i < s.valkey.size(); i++) {
      s.valkey.killSentinel(i);
      s.valkey.restartSentinel(i);
    }
    int node = SentinelScenario.nodeOf(before);
    s.valkey.killValkey(node);
    s.awaitFailoverAwayFrom(node);
    String after = s.awaitLabelOnSentinelPrimary();
    assertThat(after).isNotEqualTo(before);
    await().atMost(SentinelScenario.CONVERGE).until(() -> r.health().isReady());
    s.assertNeverTwoLabelled();
  }
}
