package io.valkeyk8s.reconciler.sentinel;

import io.valkeyk8s.reconciler.valkey.Address;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one Sentinel knows about the monitored primary: its flags ({@code SENTINEL MASTER}), the
 * other Sentinels ({@code SENTINEL SENTINELS}) and the replicas ({@code SENTINEL REPLICAS}), each
 * under the address it is announced with (a pod's host name in the chart).
 */
record SentinelTable(
    Address sentinel, Set<String> primaryFlags, List<Address> sentinels, List<Replica> replicas) {

  /** Flags of a primary that is being failed over or looks down to this Sentinel. */
  private static final Set<String> UNSETTLED =
      Set.of(
          "s_down",
          "o_down",
          "failover_in_progress",
          "promoted",
          "coordinated_failover",
          "force_failover",
          "disconnected");

  /** A replica as this Sentinel sees it. */
  record Replica(Address address, Set<String> flags, int priority, boolean linkOk) {
    /** Sentinel would never pick it in a failover: down, disconnected, or priority 0. */
    boolean excludedFromFailover() {
      return priority == 0
          || flags.contains("s_down")
          || flags.contains("o_down")
          || flags.contains("disconnected");
    }

    /** Known, connected, not down, its link to the primary up. */
    boolean healthy() {
      return flags.equals(Set.of("slave")) && linkOk;
    }
  }

  /** True while this Sentinel is failing the primary over or believes it down. */
  boolean unsettled() {
    return primaryFlags.stream().anyMatch(UNSETTLED::contains);
  }

  static SentinelTable parse(
      Address sentinel,
      Map<String, String> primary,
      List<Map<String, String>> sentinels,
      List<Map<String, String>> replicas) {
    return new SentinelTable(
        sentinel,
        flags(primary),
        sentinels.stream().map(SentinelTable::address).toList(),
        replicas.stream()
            .map(
                r ->
                    new Replica(
                        address(r),
                        flags(r),
                        integer(r.get("slave-priority"), 100),
                        "ok".equals(r.get("master-link-status"))))
            .toList());
  }

  private static Address address(Map<String, String> fields) {
    return new Address(fields.getOrDefault("ip", ""), integer(fields.get("port"), 0));
  }

  /** The comma-separated {@code flags} field of a Sentinel reply, as a set. */
  static Set<String> flags(Map<String, String> fields) {
    String flags = fields.getOrDefault("flags", "");
    return flags.isEmpty() ? Set.of() : Set.copyOf(Arrays.asList(flags.split(",")));
  }

  private static int integer(String value, int otherwise) {
    try {
      return value == null ? otherwise : Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      return otherwise;
    }
  }
}
