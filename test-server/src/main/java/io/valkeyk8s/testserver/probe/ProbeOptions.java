package io.valkeyk8s.testserver.probe;

import java.time.Duration;

/**
 * How the probe writes.
 *
 * @param interval time between the starts of two writes (a slow write delays the next one)
 * @param duration stop after this long; {@code null} runs until stopped or {@code maxWrites}
 * @param maxWrites stop after this many writes
 * @param keyTtl expiry of the probe keys, so probes never fill the primary; zero keeps them
 */
public record ProbeOptions(Duration interval, Duration duration, long maxWrites, Duration keyTtl) {

  public ProbeOptions {
    if (interval.isNegative()) {
      throw new IllegalArgumentException("interval must not be negative");
    }
    if (duration != null && (duration.isNegative() || duration.isZero())) {
      throw new IllegalArgumentException("duration must be positive");
    }
    if (maxWrites < 1) {
      throw new IllegalArgumentException("max writes must be at least 1");
    }
    if (keyTtl.isNegative()) {
      throw new IllegalArgumentException("key TTL must not be negative");
    }
  }
}
