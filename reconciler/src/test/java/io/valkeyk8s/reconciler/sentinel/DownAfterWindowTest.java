package io.valkeyk8s.reconciler.sentinel;

import static org.assertj.core.api.Assertions.assertThat;

import io.valkeyk8s.reconciler.valkey.Address;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DownAfterWindowTest {
  private static final Address SENTINEL = new Address("valkey-1.valkey-headless", 26379);

  private static DownAfterWindow window(String flags, String downAfter, String lastOk) {
    return DownAfterWindow.parse(
        SENTINEL,
        Map.of("flags", flags, "down-after-milliseconds", downAfter, "last-ok-ping-reply", lastOk));
  }

  @Test
  void downAfterLessTheTimeSinceTheLastValidReply() {
    assertThat(window("master", "5000", "1200").remainingMs()).isEqualTo(3800);
    assertThat(window("master", "1000", "1200").remainingMs()).isZero();
  }

  @Test
  void noneLeftOnceTheSentinelBelievesThePrimaryDownOrFailsItOver() {
    assertThat(window("master,s_down", "60000", "10").remainingMs()).isZero();
    assertThat(window("master,s_down,o_down", "60000", "10").remainingMs()).isZero();
    assertThat(window("master,failover_in_progress", "60000", "10").remainingMs()).isZero();
  }

  @Test
  void noneLeftWhenAFieldIsMissingOrNotANumber() {
    assertThat(DownAfterWindow.parse(SENTINEL, Map.of("flags", "master")).remainingMs()).isZero();
    assertThat(window("master", "soon", "10").remainingMs()).isZero();
  }
}
