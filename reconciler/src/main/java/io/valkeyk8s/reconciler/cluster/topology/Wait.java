package io.valkeyk8s.reconciler.cluster.topology;

import io.valkeyk8s.reconciler.core.StepFailedException;
import java.time.Duration;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Polls a condition until it holds or a deadline passes; the timeout is a failed step. What is
 * still wrong is logged once each time it changes: progress of a long step, never a line per poll.
 */
public final class Wait {
  private static final Logger LOG = LoggerFactory.getLogger(Wait.class);

  private Wait() {}

  /**
   * @param problem returns null when the condition holds, otherwise what is still wrong
   */
  public static void until(String step, Duration timeout, Supplier<String> problem) {
    until(step, timeout, problem, Duration.ofMillis(200));
  }

  /** As {@link #until(String, Duration, Supplier)}, polling every {@code poll}. */
  public static void until(String step, Duration timeout, Supplier<String> problem, Duration poll) {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = null;
    String logged = null;
    while (true) {
      try {
        last = problem.get();
        if (last == null) {
          return;
        }
      } catch (StepFailedException e) {
        last = e.getMessage();
      }
      if (!last.equals(logged)) {
        LOG.info("action=wait step=\"{}\" reason=\"{}\"", step, last);
        logged = last;
      }
      if (System.nanoTime() > deadline) {
        throw new StepFailedException(
            step, null, "not done after " + timeout.toSeconds() + " s: " + last);
      }
      sleep(poll);
    }
  }

  public static void sleep(Duration duration) {
    try {
      Thread.sleep(duration);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StepFailedException("wait", null, "interrupted");
    }
  }
}
