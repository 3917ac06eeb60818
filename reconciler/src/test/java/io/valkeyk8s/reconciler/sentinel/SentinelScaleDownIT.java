package io.valkeyk8s.reconciler.sentinel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.valkeyk8s.testsupport.KubeApiServer;
import io.valkeyk8s.testsupport.KubeApiServerExtension;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A scale-down as the StatefulSet does it (every departing pod deleted at once, the primary's among
 * them) against real Valkey and Sentinel processes and a real API server: the handover promotes a
 * pod that stays, no acknowledged write is lost, and afterwards the Sentinels forget the departed
 * Sentinels and replicas, so that a failover needs a majority of the Sentinels that exist.
 */
@ExtendWith(KubeApiServerExtension.class)
class SentinelScaleDownIT {
  private static final Duration FORGOTTEN = SentinelTableReset.STALE_AFTER.plusSeconds(150);
  private final KubeApiServer api;
  private SentinelScenario s;

  SentinelScaleDownIT(KubeApiServer api) {
    this.api = api;
  }

  @BeforeEach
  void start() throws Exception {
    s = new SentinelScenario(api, 5);
  }

  @AfterEach
  void stop() {
    s.close();
  }

  @Test
  void aScaleDownThatRemovesThePrimaryHandsOverToAPodThatStaysAndTheSentinelsForgetTheDeparted()
      throws Exception {
    s.startReconciler("r1");
    s.awaitLabelOnSentinelPrimary();
    // As the end-to-end case: the primary on the highest ordinal, which the scale-down removes,
    // and Sentinel's favourite replica (lowest priority wins) on the other departing pod.
    s.movePrimaryTo(4);
    s.setPriorityAndAwaitSentinels(3, 1);

    List<String> missing;
    try (SentinelScenario.Writer writer = s.startWriter()) {
      writer.awaitMore(200);
      // helm upgrade 5 -> 3 pods: the spec first, then the StatefulSet deletes 4 and 3 in turn.
      s.pods.scale(3);
      s.terminate("valkey-4");
      s.terminate("valkey-3");
      s.awaitFailoverAwayFrom(4);
      String after = s.awaitLabelOnSentinelPrimary();
      assertThat(after)
          .as("the new primary is a pod that stays")
          .isIn("valkey-0", "valkey-1", "valkey-2");
      writer.awaitMore(200);
      missing = writer.stopAndFindMissing();
    }
    assertThat(missing).as("acknowledged writes missing on the new primary").isEmpty();

    // The kubelet stops the departing pods' containers; the pods go.
    for (int node : new int[] {4, 3}) {
      s.valkey.killValkey(node);
      s.valkey.killSentinel(node);
      s.releaseTerminating(SentinelScenario.podName(node));
    }
    await()
        .atMost(FORGOTTEN)
        .pollInterval(Duration.ofMillis(500))
        .untilAsserted(
            () -> {
              for (int i = 0; i < 3; i++) {
                assertThat(s.valkey.sentinelsKnownBy(i)).as("Sentinels known by %d", i).hasSize(2);
                assertThat(s.valkey.replicasKnownBy(i)).as("replicas known by %d", i).hasSize(2);
              }
            });

    // With the departed forgotten, two of the three Sentinels left are a majority: one more
    // Sentinel down and the primary killed still fail over (with five known, it would need three).
    String primary = s.awaitLabelOnSentinelPrimary();
    int node = SentinelScenario.nodeOf(primary);
    s.valkey.killSentinel((node + 1) % 3);
    s.valkey.killValkey(node);
    await()
        .atMost(SentinelScenario.CONVERGE)
        .until(() -> s.watch.labelledPod().map(p -> !p.equals(primary)).orElse(false));
    String next = s.watch.labelledPod().orElseThrow();
    assertThat(s.valkey.role(SentinelScenario.nodeOf(next))).contains("master");
    s.assertNeverTwoLabelled();
  }
}
