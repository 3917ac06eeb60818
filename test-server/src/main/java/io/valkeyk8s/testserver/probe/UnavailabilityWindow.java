package io.valkeyk8s.testserver.probe;

import java.util.Map;

/**
 * A stretch of time during which no write was acknowledged: from the start of the first failed
 * write after an acknowledged one (or after the probe started) to the acknowledgement of the next
 * write that succeeded. A window still open when the probe stopped ends at its last failed write
 * and has {@code ongoing} set.
 *
 * @param startNanos monotonic nanoseconds since the probe started
 * @param endNanos monotonic nanoseconds since the probe started
 * @param firstError the kind of the write that opened the window
 * @param failedWrites how many writes failed inside the window
 * @param errors how many failed writes of each kind
 */
public record UnavailabilityWindow(
    long startNanos,
    long endNanos,
    ErrorKind firstError,
    int failedWrites,
    Map<ErrorKind, Integer> errors,
    boolean ongoing) {

  public long durationMillis() {
    return (endNanos - startNanos) / 1_000_000;
  }
}
