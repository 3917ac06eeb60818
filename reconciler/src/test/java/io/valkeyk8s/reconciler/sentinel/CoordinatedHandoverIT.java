package io.valkeyk8s.reconciler.sentinel;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.valkeyk8s.testsupport.KubeApiServer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * VALKEY_HANDOVER_FAILOVER=coordinated against real Valkey 9.1 servers, Sentinels and
 * kube-apiserver: a terminating primary hands over through SENTINEL FAILOVER COORDINATED, and when
 * the servers refuse FAILOVER to Sentinel's ACL user, the handover falls back to pause + forced
 * failover. A writer that follows the label loses no acknowledged write either way.
 */
class CoordinatedHandoverIT {
  private static KubeApiServer api;
  private SentinelScenario s;

  @BeforeAll
  static void startApi() throws Exception {
    api = KubeApiServer.start();
  }

  @AfterAll
  static void stopApi() {
    api.close();
  }

  @BeforeEach
  void start() throws Exception {
    s = new SentinelScenario(api);
    Map<String, String> env = s.env("coordinated");
    env.put("VALKEY_HANDOVER_FAILOVER", "coordinated");
    s.startReconciler(env);
  }

  @AfterEach
  void stop() {
    s.close();
  }

  @Test
  void aTerminatingPrimaryHandsOverItself() throws Exception {
    assertThat(handOverWithAWriter())
        .as("acknowledged writes missing on the new primary")
        .isEmpty();
    s.assertNeverTwoLabelled();
  }

  @Test
  void fallsBackToAForcedFailoverWhenTheServersRefuseFailoverToSentinel() throws Exception {
    for (int i = 0; i < s.valkey.size(); i++) {
      try (StatefulRedisConnection<String, String> c = s.valkey.connect(i)) {
        String ok =
            c.sync()
                .dispatch(
                    CommandType.ACL,
                    new StatusOutput<>(StringCodec.UTF8),
                    new CommandArgs<>(StringCodec.UTF8)
                        .add("SETUSER")
                        .add("sentinel")
                        .add("-failover"));
        assertThat(ok).isEqualTo("OK");
      }
    }
    assertThat(handOverWithAWriter())
        .as("acknowledged writes missing on the new primary")
        .isEmpty();
    s.assertNeverTwoLabelled();
  }

  private List<String> handOverWithAWriter() throws Exception {
    String before = s.awaitLabelOnSentinelPrimary();
    try (SentinelScenario.Writer writer = s.startWriter()) {
      writer.awaitMore(200);
      s.terminate(before);
      String after = s.awaitSettledFailoverAwayFrom(SentinelScenario.nodeOf(before));
      assertThat(after).isNotEqualTo(before);
      writer.awaitMore(200);
      return writer.stopAndFindMissing();
    } finally {
      s.releaseTerminating(before);
    }
  }
}
