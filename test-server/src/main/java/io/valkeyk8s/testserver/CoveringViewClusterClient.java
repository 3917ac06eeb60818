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
 * has a primary, when at least one node answered such a view.
 *
 * <p>A node that has just joined (a scale-up) answers CLUSTER NODES before it has learnt the
 * others' slots. Lettuce's consensus counts only how many known nodes a view names, so that view
 * ties with the healthy ones and can be adopted; then every command to a slot it leaves uncovered
 * fails with "Cannot determine a partition for slot" until a later refresh adopts another view. The
 * e2e scale-up 3 -> 5 masters saw 42 s of that on every shard (lettuce#2769; the upstream change
 * that does what this class does, lettuce#3854, is not released). Applications on Lettuce need the
 * same override; the README says so.
 */
final class CoveringViewClusterClient extends RedisClusterClient {

  CoveringViewClusterClient(ClientResources resources, RedisURI seed) {
    super(resources, List.of(seed));
  }

  @Override
  protected Partitions determinePartitions(
      Partitions current, Map<RedisURI, Partitions> topologyViews) {
    return super.determinePartitions(current, covering(topologyViews));
  }

  /** The views that cover every slot, or all of them when none does. */
  static Map<RedisURI, Partitions> covering(Map<RedisURI, Partitions> views) {
    Map<RedisURI, Partitions> covering = new LinkedHashMap<>();
    views.forEach(
        (uri, view) -> {
          if (coversEverySlot(view)) {
            covering.put(uri, view);
          }
        });
    return covering.isEmpty() ? views : covering;
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
