package io.valkeyk8s.reconciler.sentinel;

import io.valkeyk8s.reconciler.Address;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * When the first {@code +switch-master} announcing each new primary arrived, from any
 * Sentinel, so the label move can be timed from the earliest notice.
 */
public final class SwitchClock {
  private static final long FORGET_AFTER_NANOS = Duration.ofMinutes(2).toNanos();
  private final Map<Address, Long> firstSeen = new ConcurrentHashMap<>();

  /** Records the arrival; true when it is the first notice of this primary. */
  public boolean record(Address newPrimary, long nanos) {
    firstSeen.values().removeIf(t -> nanos - t > FORGET_AFTER_NANOS);
    return firstSeen.putIfAbsent(newPrimary, nanos) == null;
  }

  /** Removes and returns when the switch to this primary was first announced. */
  public Optional<Long> take(Address primary) {
    return Optional.ofNullable(firstSeen.remove(primary));
  }
}
