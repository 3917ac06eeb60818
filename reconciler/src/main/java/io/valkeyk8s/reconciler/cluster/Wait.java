package io.valkeyk8s.reconciler.cluster;

import io.valkeyk8s.reconciler.core.StepFailedException;
import java.time.Duration;
import java.util.function.Supplier;

/** Polls a condition until it holds or a deadline passes; the timeout is a failed step. */
final class Wait {
  private Wait() {}

  /**
   * @param problem returns null when the condition holds, otherwise what is still wrong
   */
  static void until(String step, Duration timeout, Supplier<String> problem) {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = null;
    while (true) {
      try {
        last = problem.get();
        if (last == null) {
          return;
        }
      } catch (StepFailedException e) {
        last = e.getMessage();
      }
      if (System.nanoTime() > deadline) {
        throw new StepFailedException(
            step, null, "not done after " + timeout.toSeconds() + " s: " + last);
      }
      sleep(Duration.ofMillis(200));
    }
  }

  static void sleep(Duration duration) {
    try {
      Thread.sleep(duration);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StepFailedException("wait", null, "interrupted");
    }
  }
}
