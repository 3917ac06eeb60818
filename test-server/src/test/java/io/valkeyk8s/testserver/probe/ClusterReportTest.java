package io.valkeyk8s.testserver.probe;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.models.partitions.Partitions;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.valkeyk8s.testserver.ClusterView;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Writes grouped by the shard serving their slot, each shard with its own windows. */
class ClusterReportTest {
  private static final long MS = 1_000_000;
  private final ProbeClock clock = new ProbeClock(Instant.parse("2026-01-01T00:00:00Z"), 0);
  private final ProbeKeys keys = ProbeKeys.spread("run1");

  private static RedisClusterNode node(
      String id, String host, RedisClusterNode.NodeFlag role, int from, int to) {
    return new RedisClusterNode(
        RedisURI.create(host, 6379),
        id,
        true,
        null,
        0,
        0,
        0,
        from < 0 ? List.of() : IntStream.rangeClosed(from, to).boxed().toList(),
        Set.of(role));
  }

  /** Two primaries with half the slots each, a replica, and slots 16000+ served by nobody. */
  private static ClusterView view() {
    Partitions partitions = new Partitions();
    partitions.add(node("b", "10.0.0.2", RedisClusterNode.NodeFlag.UPSTREAM, 8192, 15999));
    partitions.add(node("a", "10.0.0.1", RedisClusterNode.NodeFlag.UPSTREAM, 0, 8191));
    partitions.add(node("r", "10.0.0.3", RedisClusterNode.NodeFlag.REPLICA, -1, -1));
    partitions.updateCache();
    return ClusterView.of(partitions, 2, 5, 1);
  }

  /** Ids whose keys fall in [from, to] of the slot space. */
  private List<Long> idsInSlots(int from, int to, int count) {
    List<Long> ids = new ArrayList<>();
    for (long id = 1; ids.size() < count; id++) {
      int slot = SlotHash.getSlot(keys.key(id));
      if (slot >= from && slot <= to) {
        ids.add(id);
      }
    }
    return ids;
  }

  @Test
  void eachShardHasItsOwnWindowsWhileOthersKeepWriting() throws Exception {
    List<Long> a = idsInSlots(0, 8191, 4);
    List<Long> b = idsInSlots(8192, 15999, 3);
    List<Long> none = idsInSlots(16000, 16383, 1);
    // Shard a loses its primary from 20 ms to 300 ms; b acknowledges all along.
    List<WriteAttempt> attempts =
        List.of(
            WriteAttempt.acked(a.get(0), 0, MS),
            WriteAttempt.acked(b.get(0), 10 * MS, 11 * MS),
            WriteAttempt.failed(a.get(1), 20 * MS, 270 * MS, ErrorKind.TIMEOUT),
            WriteAttempt.acked(b.get(1), 280 * MS, 281 * MS),
            WriteAttempt.failed(a.get(2), 290 * MS, 291 * MS, ErrorKind.CLUSTERDOWN),
            WriteAttempt.failed(none.get(0), 292 * MS, 293 * MS, ErrorKind.CLUSTERDOWN),
            WriteAttempt.acked(a.get(3), 295 * MS, 300 * MS),
            WriteAttempt.acked(b.get(2), 310 * MS, 311 * MS));

    ClusterReport report = ClusterReport.of(view(), keys, clock, attempts);

    assertThat(report.topologyChanges()).isEqualTo(2);
    assertThat(report.movedRedirects()).isEqualTo(5);
    assertThat(report.askRedirects()).isEqualTo(1);
    assertThat(report.shards())
        .extracting(ClusterReport.Shard::address)
        .containsExactly("10.0.0.1:6379", "10.0.0.2:6379", null);
    ClusterReport.Shard first = report.shards().get(0);
    assertThat(first.nodeId()).isEqualTo("a");
    assertThat(first.slots()).isEqualTo("0-8191");
    assertThat(first.totalWrites()).isEqualTo(4);
    assertThat(first.failedWrites()).isEqualTo(2);
    assertThat(first.windows()).hasSize(1);
    assertThat(first.unavailableMs()).isEqualTo(280);
    assertThat(first.windows().getFirst().errors()).containsEntry("timeout", 1);
    assertThat(first.windows().getFirst().errors()).containsEntry("clusterdown", 1);
    ClusterReport.Shard second = report.shards().get(1);
    assertThat(second.windows()).isEmpty();
    assertThat(second.ackedWrites()).isEqualTo(3);
    ClusterReport.Shard uncovered = report.shards().get(2);
    assertThat(uncovered.slots()).isEqualTo("uncovered");
    assertThat(uncovered.windows()).singleElement().matches(ProbeReport.Window::ongoing);

    // The top-level windows are per write: one short window per failure between acks.
    ProbeReport whole =
        ProbeReport.of("run1", "valkey:6379", clock, 400 * MS, attempts, found(4), report);
    assertThat(whole.windows()).hasSize(2);
    JsonNode json = new ObjectMapper().readTree(whole.toJson());
    assertThat(json.get("mode").asText()).isEqualTo("cluster");
    assertThat(json.at("/cluster/shards/0/windows/0/durationMs").asLong()).isEqualTo(280);
    assertThat(json.at("/cluster/shards/2/nodeId").isNull()).isTrue();
    assertThat(ProbeReport.fromJson(whole.toJson())).isEqualTo(whole);
    assertThat(whole.toText())
        .contains("cluster: 3 shard(s), 2 topology change(s), redirects followed: 5 MOVED, 1 ASK")
        .contains("shard 10.0.0.1:6379 slots 0-8191: 4 writes, 2 failed, unavailable 280 ms");
  }

  @Test
  void beforeTheFirstConnectionEveryWriteIsUncovered() {
    ClusterReport report =
        ClusterReport.of(
            ClusterView.unknown(),
            keys,
            clock,
            List.of(WriteAttempt.failed(1, 0, MS, ErrorKind.CONNECTION)));

    assertThat(report.shards())
        .singleElement()
        .extracting(ClusterReport.Shard::slots)
        .isEqualTo("uncovered");
  }

  private static Verification found(long acked) {
    return new Verification(acked, 0, List.of(), 0, 0, null);
  }
}
