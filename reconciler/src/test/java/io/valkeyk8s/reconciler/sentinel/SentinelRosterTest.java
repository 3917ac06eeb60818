package io.valkeyk8s.reconciler.sentinel;

import static org.assertj.core.api.Assertions.assertThat;

import io.valkeyk8s.reconciler.valkey.Address;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Who counts in the majority: one member per Sentinel run id, whatever address reached it. */
class SentinelRosterTest {
  private static final Address SERVICE = new Address("valkey-sentinel.ns.svc.cluster.local", 26379);
  private static final Address POD0 =
      new Address("valkey-0.valkey-headless.ns.svc.cluster.local", 26379);
  private static final Address POD1 =
      new Address("valkey-1.valkey-headless.ns.svc.cluster.local", 26379);
  private static final Address POD2 =
      new Address("valkey-2.valkey-headless.ns.svc.cluster.local", 26379);

  @Test
  void aSentinelReachedThroughTheServiceCountsOnceUnderItsOwnAddress() {
    // The Service led to pod 0's Sentinel (id a); its peers report it under its pod address.
    Map<Address, String> peers = ordered(POD1, "b", POD2, "c", POD0, "a");
    Map<Address, String> answering = ordered(SERVICE, "a", POD1, "b", POD2, "c");

    assertThat(Sentinels.roster(peers, answering, SERVICE, "a"))
        .containsExactly(Map.entry(POD1, "b"), Map.entry(POD2, "c"), Map.entry(POD0, "a"));
  }

  @Test
  void theSeedAddressIsKeptForASentinelNobodyElseReports() {
    // At the very first start the peers have not heard of the seed's Sentinel yet.
    Map<Address, String> peers = ordered(POD1, "b", POD2, "c");

    assertThat(Sentinels.roster(peers, Map.of(), SERVICE, "a"))
        .containsExactly(Map.entry(POD1, "b"), Map.entry(POD2, "c"), Map.entry(SERVICE, "a"));
  }

  @Test
  void aLoneSentinelIsItsOwnMember() {
    assertThat(Sentinels.roster(Map.of(), Map.of(), POD0, "a"))
        .containsExactly(Map.entry(POD0, "a"));
    assertThat(Sentinels.roster(Map.of(), ordered(POD0, "a"), POD0, "a"))
        .containsExactly(Map.entry(POD0, "a"));
  }

  @Test
  void oneAddressHoldsOneRunIdTheFirstReported() {
    // A restarted Sentinel at the same hostname, reported with its old and its new id.
    Map<Address, String> peers = ordered(POD0, "new", POD1, "b");
    Map<Address, String> answering = ordered(POD0, "old");

    assertThat(Sentinels.roster(peers, answering, POD1, "b"))
        .containsExactly(Map.entry(POD0, "new"), Map.entry(POD1, "b"));
  }

  @Test
  void nobodyAnsweredMeansNoMembers() {
    assertThat(Sentinels.roster(Map.of(), Map.of(), SERVICE, null)).isEmpty();
  }

  private static Map<Address, String> ordered(Object... addressThenId) {
    Map<Address, String> m = new LinkedHashMap<>();
    for (int i = 0; i < addressThenId.length; i += 2) {
      m.put((Address) addressThenId[i], (String) addressThenId[i + 1]);
    }
    return m;
  }
}
