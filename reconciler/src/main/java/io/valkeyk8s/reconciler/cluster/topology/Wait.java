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

  /**
   * Runs a command again while it fails with NOREPLICAS, at most {@code timeout}: a primary whose
   * replica is briefly away (reconnecting, in a full sync, re-pointed) refuses writes under
   * min-replicas-to-write and times out waiting for the replica's ack of a replicated CLUSTER
   * SETSLOT; both pass once the replica is back. Any other failure is thrown at once.
   */
  public static void retryingNoReplicas(String step, Duration timeout, Runnable command) {
    long deadline = System.nanoTime() + timeout.toNanos();
    boolean logged = false;
    while (true) {
      try {
        command.run();
        return;
      } catch (StepFailedException e) {
        if (!isNoReplicas(e) || System.nanoTime() > deadline) {
          throw e;
        }
        if (!logged) {
          LOG.info("action=wait step=\"{}\" reason=\"{}; retrying\"", step, e.getMessage());
          logged = true;
        }
        sleep(Duration.ofMillis(500));
      }
    }
  }

  /** The server refused because too few replicas acknowledged (NOREPLICAS). */
  public static boolean isNoReplicas(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t.getMessage() != null && t.getMessage().contains("NOREPLICAS")) {
        return true;
      }
    }
    return false;
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
