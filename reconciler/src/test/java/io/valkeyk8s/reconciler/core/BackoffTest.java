package io.valkeyk8s.reconciler.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {
  @Test
  void doublesUpToTheMaximumAndResets() {
    Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofMillis(350));
    assertThat(b.nextDelay()).isEqualTo(Duration.ofMillis(100));
    assertThat(b.nextDelay()).isEqualTo(Duration.ofMillis(200));
    assertThat(b.nextDelay()).isEqualTo(Duration.ofMillis(350));
    assertThat(b.nextDelay()).isEqualTo(Duration.ofMillis(350));
    b.reset();
    assertThat(b.nextDelay()).isEqualTo(Duration.ofMillis(100));
  }
}
