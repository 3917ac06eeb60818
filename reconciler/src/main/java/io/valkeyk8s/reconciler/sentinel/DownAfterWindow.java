package io.valkeyk8s.reconciler.sentinel;

import io.valkeyk8s.reconciler.valkey.Address;
import java.util.Map;
import java.util.Set;

/**
 * How long one Sentinel has left before it calls the primary down by itself: its {@code
 * down-after-milliseconds} minus the time since the primary's last valid PING reply ({@code
 * last-ok-ping-reply}), both from {@code SENTINEL MASTER}. Sentinel marks the primary subjectively
 * down no earlier than that, so the remainder is a lower bound of the time before it may start a
 * failover of its own.
 */
record DownAfterWindow(Address sentinel, Set<String> flags, long downAfterMs, long sinceLastOkMs) {

  /** Flags of a primary this Sentinel already believes down or is failing over. */
  private static final Set<String> DOWN_OR_FAILING =
      Set.of("s_down", "o_down", "failover_in_progress", "promoted", "force_failover");

  static DownAfterWindow parse(Address sentinel, Map<String, String> primary) {
    return new DownAfterWindow(
        sentinel,
        SentinelTable.flags(primary),
        number(primary.get("down-after-milliseconds")),
        number(primary.get("last-ok-ping-reply")));
  }

  /**
   * Milliseconds before this Sentinel may call the primary down; 0 once it does or fails it over.
   */
  long remainingMs() {
    if (downAfterMs < 0
        || sinceLastOkMs < 0
        || flags.stream().anyMatch(DOWN_OR_FAILING::contains)) {
      return 0;
    }
    return Math.max(0, downAfterMs - sinceLastOkMs);
  }

  /** -1 for a field that is missing or not a number: such a window counts as none left. */
  private static long number(String value) {
    try {
      return value == null ? -1 : Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
