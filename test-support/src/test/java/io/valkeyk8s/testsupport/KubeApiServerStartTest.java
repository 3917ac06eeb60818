package io.valkeyk8s.testsupport;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.LocalTime;
import org.junit.jupiter.api.Test;

class KubeApiServerStartTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(90);

  @Test
  void startsAtOnceDuringTheDay() {
    assertThat(KubeApiServer.waitBeforeStart(LocalTime.of(12, 0), TIMEOUT)).isZero();
    assertThat(KubeApiServer.waitBeforeStart(LocalTime.of(23, 58, 0), TIMEOUT)).isZero();
  }

  @Test
  void waitsUntilJustAfterMidnightWhenTheTimeoutWouldWrap() {
    assertThat(KubeApiServer.waitBeforeStart(LocalTime.of(23, 59, 0), TIMEOUT))
        .isEqualTo(Duration.ofSeconds(61));
    assertThat(KubeApiServer.waitBeforeStart(LocalTime.of(23, 59, 59), TIMEOUT))
        .isEqualTo(Duration.ofSeconds(2));
  }
}
