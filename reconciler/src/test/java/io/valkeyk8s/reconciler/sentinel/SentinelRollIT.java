package io.valkeyk8s.reconciler.sentinel;

import static org.assertj.core.api.Assertions.assertThat;

import io.valkeyk8s.testsupport.KubeApiServer;
import io.valkeyk8s.testsupport.KubeApiServerExtension;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A rolling update as the StatefulSet does it (highest ordinal first) with the primary on the pod
 * it restarts first, against real Valkey and Sentinel processes and a real API server: the handover
 * promotes the replica the roll restarts last, so that the primary moves twice in the whole roll
 * instead of once per pod.
 */
@ExtendWith(KubeApiServerExtension.class)
class SentinelRollIT {
  private final KubeApiServer api;
  private SentinelScenario s;

  SentinelRollIT(KubeApiServer api) {
    this.api = api;
  }

  @BeforeEach
  void start() throws Exception {
    s = new SentinelScenario(api, 3);
  }

  @AfterEach
  void stop() {
    s.close();
  }

  @Test
  void theHandoverOfThePodTheRollRestartsFirstPromotesTheReplicaItRestartsLast() throws Exception {
    s.startReconciler("r1");
    s.awaitLabelOnSentinelPrimary();
    s.movePrimaryTo(2);
    // Sentinel's own favourite is valkey-1 (the lowest priority wins), the next pod the roll
    // restarts: without the roll's ranking it would be promoted and hand over again moments later.
    s.setPriorityAndAwaitSentinels(1, 50);
    s.pods.rollingUpdate("old", "new");

    List<String> missing;
    try (SentinelScenario.Writer writer = s.startWriter()) {
      writer.awaitMore(200);
      s.terminate("valkey-2");
      s.awaitFailoverAwayFrom(2);
      assertThat(s.awaitLabelOnSentinelPrimary())
          .as("the replica the roll restarts last")
          .isEqualTo("valkey-0");
      writer.awaitMore(200);
      missing = writer.stopAndFindMissing();
    }
    assertThat(missing).as("acknowledged writes missing on the new primary").isEmpty();
    s.assertNeverTwoLabelled();
  }
}
