package io.valkeyk8s.testserver.probe;

import java.time.Instant;

/**
 * Turns the probe's monotonic offsets into wall-clock instants: durations are measured with
 * {@link System#nanoTime()} (immune to clock steps), reports show wall-clock times.
 */
public record ProbeClock(Instant startedAt, long originNanos) {

  public static ProbeClock start() {
    return new ProbeClock(Instant.now(), System.nanoTime());
  }

  /** Nanoseconds since the probe started. */
  public long now() {
    return System.nanoTime() - originNanos;
  }

  public Instant instantAt(long offsetNanos) {
    return startedAt.plusNanos(offsetNanos);
  }
}
