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
  void delayedAddsOfOneKeyKeepOnlyTheEarliest() throws Exception {
    try (WorkQueue<String> q = new WorkQueue<>()) {
      q.addAfter("k", Duration.ofSeconds(30));
      q.addAfter("k", Duration.ofMillis(500)); // earlier: replaces it
      for (int i = 0; i < 50; i++) {
        q.addAfter("k", Duration.ofSeconds(3)); // later than the pending one: dropped
      }
      // Long before the 30 s one would have fired: the earlier add replaced it.
      assertThat(q.take(Duration.ofSeconds(10))).contains("k");
      // The later adds were dropped, not scheduled: nothing else arrives.
      assertThat(q.take(Duration.ofSeconds(4))).isEmpty();
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
