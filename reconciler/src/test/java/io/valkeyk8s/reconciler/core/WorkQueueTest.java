package io.valkeyk8s.reconciler.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class WorkQueueTest {
  @Test
  void aBurstOfTheSameKeyBecomesOneItem() throws Exception {
    try (WorkQueue<String> q = new WorkQueue<>()) {
      for (int i = 0; i < 100; i++) {
        q.add("primary");
      }
      q.add("other");
      assertThat(q.take(Duration.ofSeconds(1))).contains("primary");
      assertThat(q.take(Duration.ofSeconds(1))).contains("other");
      assertThat(q.take(Duration.ofMillis(50))).isEmpty();
    }
  }

  @Test
  void aDelayedAddArrivesLater() throws Exception {
    try (WorkQueue<String> q = new WorkQueue<>()) {
      q.addAfter("k", Duration.ofMillis(100));
      assertThat(q.take(Duration.ofMillis(10))).isEmpty();
      assertThat(q.take(Duration.ofSeconds(5))).contains("k");
    }
  }

  @Test
  void closingWakesATakerWithNothing() throws Exception {
    WorkQueue<String> q = new WorkQueue<>();
    Thread closer =
        Thread.ofPlatform()
            .start(
                () -> {
                  try {
                    Thread.sleep(50);
                  } catch (InterruptedException ignored) {
                    // test thread
                  }
                  q.close();
                });
    assertThat(q.take(Duration.ofSeconds(10))).isEmpty();
    closer.join();
    q.add("ignored");
    assertThat(q.take(Duration.ofMillis(10))).isEmpty();
  }
}
