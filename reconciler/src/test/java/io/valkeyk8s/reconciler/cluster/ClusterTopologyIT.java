package io.valkeyk8s.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.valkeyk8s.reconciler.cluster.command.ScaleDownCommand;
import io.valkeyk8s.reconciler.cluster.command.ScaleUpCommand;
import io.valkeyk8s.reconciler.cluster.topology.PodNode;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Replica-count changes and a whole departing shard, where the ordinal layout no longer says which
 * pod serves which shard: 3x1 to 3x2 puts pod 2 (primary of shard 1) into layout shard 0; 3x2 to
 * 3x1 removes pods 6, 7 and 8, the whole of shard 2. Masters and replicas come from the nodes'
 * state; every key reads back after each step.
 */
class ClusterTopologyIT {
  private static final int KEYS = 20_000;

  @Test
  void replicasPerMasterOneToTwoAndBack() throws Exception {
    try (ClusterHarness h = new ClusterHarness()) {
      h.scaleStatefulSet(6);
      assertThat(h.run(h.init(3, 1))).isZero();
      h.writeKeys(KEYS);
      List<String> primariesBefore = primaries(h);

      h.scaleStatefulSet(9);
      ScaleUpCommand up = h.scaleUp(3, 2);
      assertThat(h.run(up)).as(String.valueOf(up.lastError())).isZero();
      h.assertClusterOk(3, 2);
      assertThat(primaries(h)).as("no primary moved by adding replicas").isEqualTo(primariesBefore);
      assertThat(h.missingKeys(KEYS)).isZero();

      ScaleDownCommand down = h.scaleDown(3, 1);
      assertThat(h.run(down)).as(String.valueOf(down.lastError())).isZero();
      h.shrinkStatefulSet(6);
      h.assertClusterOk(3, 1);
      assertThat(primaries(h)).isEqualTo(primariesBefore);
      assertThat(h.missingKeys(KEYS)).isZero();
    }
  }

  @Test
  void aWholeDepartingShardHandsOverToASpareReplica() throws Exception {
    try (ClusterHarness h = new ClusterHarness()) {
      h.scaleStatefulSet(9);
      assertThat(h.run(h.init(3, 2))).isZero();
      h.assertClusterOk(3, 2);
      h.writeKeys(KEYS);
      long keysOfShard2;
      try (NodeClients clients = h.clients()) {
        keysOfShard2 =
            clients.at(h.address(6), "valkey-6").step("test").call(c -> c.dbsize()).longValue();
      }

      ScaleDownCommand down = h.scaleDown(3, 1);
      assertThat(h.run(down)).as(String.valueOf(down.lastError())).isZero();
      h.shrinkStatefulSet(6);
      h.assertClusterOk(3, 1);
      assertThat(h.missingKeys(KEYS)).isZero();
      try (NodeClients clients = h.clients()) {
        List<PodNode> members = h.members(clients);
        PodNode shard2 =
            members.stream()
                .filter(m -> m.slotCount() > 0 && m.view().myself().slots().get(16383))
                .findFirst()
                .orElseThrow();
        assertThat(shard2.ordinal()).as("shard 2's primary is a staying pod").isLessThan(6);
        long keysThere = shard2.client().call(c -> c.dbsize());
        assertThat(keysThere).isEqualTo(keysOfShard2);
      }
    }
  }

  /** Pod names of the masters serving slots, lowest ordinal first. */
  private static List<String> primaries(ClusterHarness h) {
    try (NodeClients clients = h.clients()) {
      return h.members(clients).stream()
          .filter(m -> m.slotCount() > 0)
          .map(m -> m.pod().name())
          .sorted()
          .toList();
    }
  }
}
