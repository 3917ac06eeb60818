package io.valkeyk8s.reconciler.cluster.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SlotBalancerTest {

  private static Map<String, BitSet> initial(ShardLayout layout, String... ids) {
    Map<String, BitSet> owned = new LinkedHashMap<>();
    for (int k = 0; k < ids.length; k++) {
      BitSet slots = new BitSet();
      slots.set(layout.firstSlot(k), layout.lastSlot(k) + 1);
      owned.put(ids[k], slots);
    }
    return owned;
  }

  private static Map<String, Integer> apply(
      Map<String, BitSet> owned, List<SlotBalancer.Move> moves) {
    Map<String, BitSet> after = new HashMap<>();
    owned.forEach((k, v) -> after.put(k, (BitSet) v.clone()));
    for (SlotBalancer.Move m : moves) {
      assertThat(after.get(m.from()).get(m.slot()))
          .as("slot %d owned by %s", m.slot(), m.from())
          .isTrue();
      after.get(m.from()).clear(m.slot());
      after.computeIfAbsent(m.to(), k -> new BitSet()).set(m.slot());
    }
    Map<String, Integer> counts = new HashMap<>();
    after.forEach((k, v) -> counts.put(k, v.cardinality()));
    return counts;
  }

  @Test
  void initialRangesCoverAllSlotsOnce() {
    ShardLayout layout = new ShardLayout(3, 1);
    assertThat(layout.firstSlot(0)).isZero();
    assertThat(layout.lastSlot(0)).isEqualTo(5461);
    assertThat(layout.lastSlot(2)).isEqualTo(16383);
    assertThat(layout.podCount()).isEqualTo(6);
    assertThat(layout.shardOf(5)).isEqualTo(2);
    assertThat(layout.isLeader(4)).isTrue();
    assertThat(layout.isDeparting(6)).isTrue();
  }

  @Test
  void scaleUpMovesOnlyWhatTheNewMasterNeeds() {
    Map<String, BitSet> owned = initial(new ShardLayout(3, 0), "a", "b", "c");
    List<SlotBalancer.Move> moves = SlotBalancer.plan(List.of("a", "b", "c", "d"), owned);
    assertThat(moves).hasSize(4096).allMatch(m -> m.to().equals("d"));
    assertThat(apply(owned, moves)).containsEntry("a", 4096).containsEntry("d", 4096);
  }

  @Test
  void scaleDownEmptiesDepartingMastersAndStaysWithinOneSlot() {
    Map<String, BitSet> owned = initial(new ShardLayout(5, 0), "a", "b", "c", "d", "e");
    List<SlotBalancer.Move> moves = SlotBalancer.plan(List.of("a", "b", "c"), owned);
    Map<String, Integer> after = apply(owned, moves);
    assertThat(after.get("d")).isZero();
    assertThat(after.get("e")).isZero();
    assertThat(List.of(after.get("a"), after.get("b"), after.get("c")))
        .allMatch(n -> n == 5461 || n == 5462);
    assertThat(after.get("a") + after.get("b") + after.get("c")).isEqualTo(16384);
  }

  @Test
  void balancedClusterNeedsNoMove() {
    Map<String, BitSet> owned = initial(new ShardLayout(4, 0), "a", "b", "c", "d");
    assertThat(SlotBalancer.plan(List.of("a", "b", "c", "d"), owned)).isEmpty();
  }
}
