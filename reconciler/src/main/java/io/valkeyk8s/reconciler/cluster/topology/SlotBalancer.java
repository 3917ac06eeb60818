package io.valkeyk8s.reconciler.cluster.topology;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Plans the fewest slot moves that leave the chosen masters within one slot of each other and every
 * other master empty.
 */
public final class SlotBalancer {
  private SlotBalancer() {}

  public record Move(int slot, String from, String to) {}

  /**
   * @param keep masters that should serve slots, in shard order
   * @param owned slots owned by every master that has any (including masters not in keep)
   */
  public static List<Move> plan(List<String> keep, Map<String, BitSet> owned) {
    int total = owned.values().stream().mapToInt(BitSet::cardinality).sum();
    int base = total / keep.size();
    int extra = total % keep.size();
    // The one-slot-larger masters are those already largest: fewer moves.
    List<String> bySize = new ArrayList<>(keep);
    bySize.sort(Comparator.comparingInt((String id) -> count(owned, id)).reversed());
    Map<String, Integer> target = new LinkedHashMap<>();
    for (int i = 0; i < bySize.size(); i++) {
      target.put(bySize.get(i), base + (i < extra ? 1 : 0));
    }

    Deque<int[]> surplus = new ArrayDeque<>(); // {slot, index of giver}
    List<String> givers = new ArrayList<>(owned.keySet());
    for (int g = 0; g < givers.size(); g++) {
      String id = givers.get(g);
      BitSet slots = owned.get(id);
      int excess = slots.cardinality() - target.getOrDefault(id, 0);
      // Give away the highest slots so that what stays is contiguous.
      for (int slot = slots.previousSetBit(ShardLayout.SLOTS - 1);
          excess > 0 && slot >= 0;
          slot = slots.previousSetBit(slot - 1), excess--) {
        surplus.addFirst(new int[] {slot, g});
      }
    }
    List<Move> moves = new ArrayList<>();
    for (String id : keep) {
      int missing = target.get(id) - count(owned, id);
      while (missing-- > 0 && !surplus.isEmpty()) {
        int[] s = surplus.pollFirst();
        moves.add(new Move(s[0], givers.get(s[1]), id));
      }
    }
    return moves;
  }

  private static int count(Map<String, BitSet> owned, String id) {
    BitSet slots = owned.get(id);
    return slots == null ? 0 : slots.cardinality();
  }
}
