package io.valkeyk8s.reconciler.cluster.command;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class OneShotCommandTest {
  @Test
  void commandsExitTwoOnBadSettingsWithoutTouchingKubernetes() {
    InitCommand init =
        new InitCommand(
            Map.of("VALKEY_CLUSTER_MASTERS", "1"),
            () -> {
              throw new AssertionError("must not connect");
            });
    assertThat(init.call()).isEqualTo(2);
    assertThat(init.lastError()).contains("VALKEY_CLUSTER_MASTERS: 1");
  }
}
