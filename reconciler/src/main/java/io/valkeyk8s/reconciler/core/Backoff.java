package io.valkeyk8s.reconciler.core;

import java.time.Duration;

/** Exponential backoff between retries, reset on success. Not thread-safe: one loop owns it. */
public final class Backoff {
  private final Duration initial;
  private final Duration max;
  private Duration next;

  public Backoff(Duration initial, Duration max) {
    this.initial = initial;
    this.max = max;
    this.next = initial;
  }

  /** The delay before the next retry; doubles up to the maximum. */
  public Duration nextDelay() {
    Duration current = next;
    Duration doubled = next.multipliedBy(2);
    next = doubled.compareTo(max) > 0 ? max : doubled;
    return current;
  }

  public void reset() {
    next = initial;
  }
}
