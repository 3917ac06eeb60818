package io.valkeyk8s.reconciler.sentinel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lettuce.core.api.StatefulRedisConnection;
import io.valkeyk8s.testsupport.KubeApiServer;
import io.valkeyk8s.testsupport.KubeApiServerExtension;
import java.time.Duration;
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

  /**
   * The roll restarted valkey-2 already and now reaches the primary, valkey-1, while the Sentinels
   * do not see valkey-2 healthy (in e2e: a pod restarted a moment ago; here: frozen for 3 s, so
   * that they mark it down). Handing over at once would leave Sentinel only valkey-0 to promote,
   * the pod the roll restarts next, and the primary would move again moments later: the handover
   * waits for valkey-2 instead.
   */
  @Test
  void theHandoverWaitsUntilTheSentinelsSeeThePreferredSuccessorHealthy() throws Exception {
    s.startReconciler("r1");
    s.awaitLabelOnSentinelPrimary();
    s.movePrimaryTo(1);
    s.pods.rollingUpdate("old", "new");
    s.pods.madeFrom("valkey-2", "new");
    // The priority the handover gives valkey-0, seen by the Sentinels beforehand: nothing else
    // makes the handover wait (they learn a replica's priority only at their next INFO of it).
    s.setPriorityAndAwaitSentinels(0, Handover.LATER_PRIORITY);
    try (StatefulRedisConnection<String, String> c = s.valkey.connect(1)) {
      await()
          .atMost(SentinelScenario.CONVERGE)
          .pollInterval(Duration.ofMillis(50))
          .until(() -> online(c.sync().info("replication"), 0, 2));
    }

    List<String> missing;
    try (SentinelScenario.Writer writer = s.startWriter()) {
      writer.awaitMore(200);
      s.valkey.freezeValkey(2);
      try {
        await()
            .atMost(SentinelScenario.CONVERGE)
            .pollInterval(Duration.ofMillis(100))
            .until(this::everySentinelSeesValkey2Down);
        s.terminate("valkey-1");
        Thread.sleep(3000);
      } finally {
        s.valkey.thawValkey(2);
      }
      s.awaitFailoverAwayFrom(1);
      assertThat(s.awaitLabelOnSentinelPrimary())
          .as("the replica the roll restarted already, not the one it restarts next")
          .isEqualTo("valkey-2");
      writer.awaitMore(200);
      missing = writer.stopAndFindMissing();
    }
    assertThat(missing).as("acknowledged writes missing on the new primary").isEmpty();
    s.assertNeverTwoLabelled();
  }

  /** Whether the primary's INFO replication lists each of these nodes as a replica in sync. */
  private boolean online(String info, int... nodes) {
    for (int node : nodes) {
      String ip = "ip=" + s.valkey.ip(node) + ",";
      if (info.lines().noneMatch(l -> l.contains(ip) && l.contains("state=online"))) {
        return false;
      }
    }
    return true;
  }

  private boolean everySentinelSeesValkey2Down() {
    for (int i = 0; i < s.valkey.size(); i++) {
      boolean down =
          s.valkey.replicasKnownBy(i).stream()
              .anyMatch(
                  r -> s.valkey.ip(2).equals(r.get("ip")) && r.get("flags").contains("s_down"));
      if (!down) {
        return false;
      }
    }
    return true;
  }
}
