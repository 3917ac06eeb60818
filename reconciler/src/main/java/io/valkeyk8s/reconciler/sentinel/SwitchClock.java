package io.valkeyk8s.reconciler.sentinel;

import io.valkeyk8s.reconciler.valkey.Address;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * When the first {@code +switch-master} announcing each new primary arrived, from any Sentinel, so
 * the label move can be timed from the earliest notice. Later copies of the same switch (the
 * failover leader announces it seconds after the others) arrive once the primary is already
 * labelled and are ignored, so they cannot time a later failover.
 */
public final class SwitchClock {
  private static final long FORGET_AFTER_NANOS = Duration.ofMinutes(2).toNanos();
  private final Map<Address, Long> firstSeen = new ConcurrentHashMap<>();
  private volatile Address settled;

  /** Records the arrival; true when it is the first notice of a switch to this primary. */
  public boolean record(Address newPrimary, long nanos) {
    if (newPrimary.equals(settled)) {
      return false;
    }
    firstSeen.values().removeIf(t -> nanos - t > FORGET_AFTER_NANOS);
    return firstSeen.putIfAbsent(newPrimary, nanos) == null;
  }

  /** The label now sits on this primary: returns when the switch to it was first announced. */
  public Optional<Long> settle(Address primary) {
    settled = primary;
    return Optional.ofNullable(firstSeen.remove(primary));
  }
}
