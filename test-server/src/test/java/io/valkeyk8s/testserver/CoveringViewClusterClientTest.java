package io.valkeyk8s.testserver;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.models.partitions.Partitions;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode.NodeFlag;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** A refresh adopts only views in which every slot has a primary, when there are such views. */
class CoveringViewClusterClientTest {
  private static final RedisURI OLD = RedisURI.create("10.0.0.1", 6379);
  private static final RedisURI JOINED = RedisURI.create("10.0.0.9", 6379);

  private static RedisClusterNode node(String id, NodeFlag role, int from, int to) {
    return new RedisClusterNode(
        RedisURI.create("10.0.0." + id.length(), 6379),
        id,
        true,
        null,
        0,
        0,
        0,
        from < 0 ? List.of() : IntStream.rangeClosed(from, to).boxed().toList(),
        Set.of(role));
  }

  private static Partitions view(RedisClusterNode... nodes) {
    Partitions partitions = new Partitions();
    for (RedisClusterNode n : nodes) {
      partitions.add(n);
    }
    partitions.updateCache();
    return partitions;
  }

  /** What an old node answers: both primaries with their slots, the new node without any. */
  private static Partitions healthy() {
    return view(
        node("a", NodeFlag.UPSTREAM, 0, 8191),
        node("bb", NodeFlag.UPSTREAM, 8192, 16383),
        node("new", NodeFlag.UPSTREAM, -1, -1));
  }

  /** What the node that has just joined answers: it knows the others, not yet their slots. */
  private static Partitions justJoined() {
    return view(
        node("a", NodeFlag.UPSTREAM, 0, 8191),
        node("bb", NodeFlag.UPSTREAM, -1, -1),
        node("new", NodeFlag.UPSTREAM, -1, -1));
  }

  @Test
  void coverageCountsThePrimariesSlotsOnly() {
    assertThat(CoveringViewClusterClient.coversEverySlot(healthy())).isTrue();
    assertThat(CoveringViewClusterClient.coversEverySlot(justJoined())).isFalse();
    Partitions replicaHoldsTheRest =
        view(node("a", NodeFlag.UPSTREAM, 0, 8191), node("r", NodeFlag.REPLICA, 8192, 16383));
    assertThat(CoveringViewClusterClient.coversEverySlot(replicaHoldsTheRest)).isFalse();
  }

  @Test
  void theJoinedNodesViewIsLeftOutWhenAnotherCoversEverySlot() {
    Map<RedisURI, Partitions> views = new LinkedHashMap<>();
    views.put(JOINED, justJoined());
    views.put(OLD, healthy());
    assertThat(CoveringViewClusterClient.candidates(justJoined(), views)).containsOnlyKeys(OLD);
  }

  @Test
  void theCurrentViewIsKeptWhenOnlyUncoveringViewsArrive() {
    // The old nodes' answers timed out: only the joined node's view came back.
    Map<RedisURI, Partitions> views = new LinkedHashMap<>();
    views.put(JOINED, justJoined());
    assertThat(CoveringViewClusterClient.candidates(healthy(), views)).isEmpty();
  }

  @Test
  void everyViewStaysWhenNeitherTheViewsNorTheCurrentOneCoverEverySlot() {
    // No covering view to keep (at start, or a shard lost before): Lettuce's consensus decides.
    Map<RedisURI, Partitions> views = new LinkedHashMap<>();
    views.put(JOINED, justJoined());
    views.put(OLD, view(node("a", NodeFlag.UPSTREAM, 0, 8191)));
    assertThat(CoveringViewClusterClient.candidates(justJoined(), views))
        .containsOnlyKeys(JOINED, OLD);
    assertThat(CoveringViewClusterClient.candidates(null, views)).containsOnlyKeys(JOINED, OLD);
  }
}
