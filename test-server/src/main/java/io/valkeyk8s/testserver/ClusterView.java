package io.valkeyk8s.testserver;

import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.models.partitions.Partitions;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The cluster as one connection sees it at one moment: which primary serves each slot, and how
 * often the topology changed and commands were redirected since the connection was opened.
 */
public final class ClusterView {
  /** A primary and the slots it serves ({@code 0-5460,10923}). */
  public record Shard(String nodeId, String address, String slots) {}

  private final List<Shard> shards;
  private final short[] ownerOfSlot;
  private final long topologyChanges;
  private final long movedRedirects;
  private final long askRedirects;

  private ClusterView(
      List<Shard> shards,
      short[] ownerOfSlot,
      long topologyChanges,
      long movedRedirects,
      long askRedirects) {
    this.shards = shards;
    this.ownerOfSlot = ownerOfSlot;
    this.topologyChanges = topologyChanges;
    this.movedRedirects = movedRedirects;
    this.askRedirects = askRedirects;
  }

  /** The primaries with slots in {@code partitions}, in slot order. */
  public static ClusterView of(
      Partitions partitions, long topologyChanges, long movedRedirects, long askRedirects) {
    List<RedisClusterNode> primaries = new ArrayList<>();
    for (RedisClusterNode node : partitions) {
      if (node.getRole().isMaster() && !node.hasNoSlots()) {
        primaries.add(node);
      }
    }
    primaries.sort(Comparator.comparingInt(n -> n.getSlots().stream().min(Integer::compare).get()));
    short[] owner = new short[SlotHash.SLOT_COUNT];
    Arrays.fill(owner, (short) -1);
    List<Shard> shards = new ArrayList<>();
    for (RedisClusterNode node : primaries) {
      short index = (short) shards.size();
      node.forEachSlot(slot -> owner[slot] = index);
      shards.add(
          new Shard(
              node.getNodeId(),
              node.getUri().getHost() + ":" + node.getUri().getPort(),
              ranges(node.getSlots())));
    }
    return new ClusterView(
        List.copyOf(shards), owner, topologyChanges, movedRedirects, askRedirects);
  }

  /** Before the first connection: no shard known, every slot uncovered. */
  public static ClusterView unknown() {
    return of(new Partitions(), 0, 0, 0);
  }

  public List<Shard> shards() {
    return shards;
  }

  /** The shard serving {@code slot}, or {@code null} when no primary serves it. */
  public Shard shardOf(int slot) {
    short index = ownerOfSlot[slot];
    return index < 0 ? null : shards.get(index);
  }

  /** The shard serving {@code key}, or {@code null}. */
  public Shard shardOfKey(String key) {
    return shardOf(SlotHash.getSlot(key));
  }

  public long topologyChanges() {
    return topologyChanges;
  }

  public long movedRedirects() {
    return movedRedirects;
  }

  public long askRedirects() {
    return askRedirects;
  }

  /** {@code 0-5460,10923,10925-10930}. */
  static String ranges(List<Integer> slots) {
    int[] sorted = slots.stream().mapToInt(Integer::intValue).sorted().distinct().toArray();
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < sorted.length; i++) {
      int start = sorted[i];
      while (i + 1 < sorted.length && sorted[i + 1] == sorted[i] + 1) {
        i++;
      }
      out.append(out.isEmpty() ? "" : ",").append(start);
      if (sorted[i] != start) {
        out.append('-').append(sorted[i]);
      }
    }
    return out.toString();
  }
}
