package io.valkeyk8s.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.valkeyk8s.reconciler.cluster.command.ScaleDownCommand;
import io.valkeyk8s.reconciler.cluster.topology.ClusterView;
import io.valkeyk8s.reconciler.valkey.NodeClient;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Scale-down when a departing primary has a replica on a staying pod (replicas were moved around):
 * the staying replica takes over with CLUSTER FAILOVER, slots end on the staying masters, no key is
 * lost.
 */
class ClusterScaleDownFailoverIT {
  private static final int KEYS = 5_000;

  @Test
  void departingPrimaryHandsOverToItsStayingReplica() throws Exception {
    try (ClusterHarness h = new ClusterHarness()) {
      h.scaleStatefulSet(6);
      assertThat(h.run(h.init(3, 1))).isZero();
      h.writeKeys(KEYS);
      h.scaleStatefulSet(8);
      assertThat(h.run(h.scaleUp(4, 1))).isZero();

      // Pod 5 (a staying pod, replica in shard 2) now replicates pod 6, the departing primary of
      // shard 3.
      try (NodeClients clients = h.clients()) {
        NodeClient pod5 = clients.at(h.address(5), "valkey-5").step("test");
        String pod6Id = clients.at(h.address(6), "valkey-6").step("test").myId();
        pod5.replicate(pod6Id);
        await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () ->
                    "up".equals(pod5.info("replication").get("master_link_status"))
                        && pod6Id.equals(ClusterView.read(pod5).myself().masterId()));
      }

      ScaleDownCommand down = h.scaleDown(3, 1);
      assertThat(h.run(down)).as(String.valueOf(down.lastError())).isZero();
      h.shrinkStatefulSet(6);
      h.assertClusterOk(3, 1);
      assertThat(h.missingKeys(KEYS)).isZero();
    }
  }
}
