package io.valkeyk8s.testserver.probe;

import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * Turns the probe's monotonic offsets into wall-clock instants: durations are measured with {@link
 * System#nanoTime()} (immune to clock steps), reports show wall-clock times.
 */
public record ProbeClock(Instant startedAt, long originNanos) {

  public static ProbeClock start() {
    return new ProbeClock(Instant.now(), System.nanoTime());
  }

  /** Nanoseconds since the probe started. */
  public long now() {
    return System.nanoTime() - originNanos;
  }

  /** Wall-clock time of an offset, to the millisecond (finer digits would only be noise). */
  public Instant instantAt(long offsetNanos) {
    return startedAt.plusNanos(offsetNanos).truncatedTo(ChronoUnit.MILLIS);
  }
}
