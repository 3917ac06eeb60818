package io.valkeyk8s.reconciler.cluster.topology;

import io.valkeyk8s.reconciler.core.Config;

/**
 * The shard layout by pod ordinal agreed with the chart: shard k is pods k*(1+R) .. k*(1+R)+R and
 * its lowest ordinal starts as the primary. Scale-down removes the highest ordinals.
 */
public record ShardLayout(int masters, int replicasPerMaster) {
  public static final int SLOTS = 16384;

  public static ShardLayout of(Config.Cluster cluster) {
    return new ShardLayout(cluster.masters(), cluster.replicasPerMaster());
  }

  public int podsPerShard() {
    return 1 + replicasPerMaster;
  }

  public int podCount() {
    return masters * podsPerShard();
  }

  public int shardOf(int ordinal) {
    return ordinal / podsPerShard();
  }

  /** The ordinal that starts as primary of the shard. */
  public int leaderOrdinal(int shard) {
    return shard * podsPerShard();
  }

  public boolean isLeader(int ordinal) {
    return ordinal % podsPerShard() == 0;
  }

  /** True for pods the StatefulSet removes when it shrinks to this layout. */
  public boolean isDeparting(int ordinal) {
    return ordinal >= podCount();
  }

  /**
   * First slot of shard k when slots are split in contiguous ranges, the first shards one slot
   * larger.
   */
  public int firstSlot(int shard) {
    int base = SLOTS / masters;
    int extra = SLOTS % masters;
    return shard * base + Math.min(shard, extra);
  }

  /** Last slot (inclusive) of shard k. */
  public int lastSlot(int shard) {
    return firstSlot(shard + 1) - 1;
  }
}
