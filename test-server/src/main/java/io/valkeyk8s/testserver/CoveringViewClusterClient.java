package io.valkeyk8s.testserver;

import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.models.partitions.Partitions;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.resource.ClientResources;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Lettuce's cluster client, except that a topology refresh only adopts a view in which every slot
 * has a primary, when at least one node answered such a view; when none did but the current view
 * covers every slot, it keeps the current one (MOVED redirects correct what it has wrong).
 *
 * <p>A node that has just joined (a scale-up) answers CLUSTER NODES before it has learnt the
 * others' slots. Lettuce's consensus counts only how many known nodes a view names, so that view
 * ties with the healthy ones and can be adopted; then every command to a slot it leaves uncovered
 * fails with "Cannot determine a partition for slot" until a later refresh adopts another view. The
 * e2e scale-up 3 -> 5 masters saw 42 s of that on every shard (lettuce#2769; the upstream change
 * that does what this class does, lettuce#3854, is not released). Applications on Lettuce need the
 * same override; the README says so. Keeping the current view matters on a loaded machine: when the
 * old nodes' answers time out, only the joined nodes' views arrive (cluster-persistence 3 -> 5 over
 * TLS at load ~45 saw 43 s of "Cannot determine a partition for slot" with the first rule alone).
 */
final class CoveringViewClusterClient extends RedisClusterClient {

  CoveringViewClusterClient(ClientResources resources, RedisURI seed) {
    super(resources, List.of(seed));
  }

  @Override
  protected Partitions determinePartitions(
      Partitions current, Map<RedisURI, Partitions> topologyViews) {
    Map<RedisURI, Partitions> candidates = candidates(current, topologyViews);
    // A copy: the caller reloads the current view from the returned one's nodes.
    return candidates.isEmpty() ? current.clone() : super.determinePartitions(current, candidates);
  }

  /**
   * The views that cover every slot; none (keep the current view) when no view does but the current
   * one covers every slot; otherwise all of them (Lettuce's own consensus decides).
   */
  static Map<RedisURI, Partitions> candidates(Partitions current, Map<RedisURI, Partitions> views) {
    Map<RedisURI, Partitions> covering = new LinkedHashMap<>();
    views.forEach(
        (uri, view) -> {
          if (coversEverySlot(view)) {
            covering.put(uri, view);
          }
        });
    if (!covering.isEmpty()) {
      return covering;
    }
    return current != null && coversEverySlot(current) ? Map.of() : views;
  }

  static boolean coversEverySlot(Partitions view) {
    BitSet slots = new BitSet(SlotHash.SLOT_COUNT);
    for (RedisClusterNode node : view) {
      if (node.is(RedisClusterNode.NodeFlag.UPSTREAM)
          || node.is(RedisClusterNode.NodeFlag.MASTER)) {
        node.forEachSlot(slots::set);
      }
    }
    return slots.cardinality() == SlotHash.SLOT_COUNT;
  }
}
