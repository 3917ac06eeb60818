package io.valkeyk8s.image;

import static io.valkeyk8s.image.ValkeyContainers.adminCli;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;

/**
 * The prestop role in cluster mode: a primary that owns slots has its connected replica take over
 * with CLUSTER FAILOVER before it stops, and waits until it is a replica itself; on a replica it
 * does nothing. A one-shard cluster of two containers of the image.
 */
class ClusterPrestopIT {

  @Test
  void aPrimaryWithSlotsHandsThemToItsReplicaBeforeItStops() throws Exception {
    try (Network network = Network.newNetwork();
        GenericContainer<?> primary = node(network, "valkey-0");
        GenericContainer<?> replica = node(network, "valkey-1")) {
      primary.start();
      replica.start();
      assertThat(adminCli(primary, "CLUSTER", "ADDSLOTSRANGE", "0", "16383")).isEqualTo("OK");
      String primaryIp =
          primary.execInContainer("getent", "hosts", "valkey-0").getStdout().split("\\s+")[0];
      assertThat(adminCli(replica, "CLUSTER", "MEET", primaryIp, "6379")).isEqualTo("OK");
      String primaryId = adminCli(primary, "CLUSTER", "MYID");
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> adminCli(replica, "CLUSTER", "NODES").contains(primaryId));
      assertThat(adminCli(replica, "CLUSTER", "REPLICATE", primaryId)).isEqualTo("OK");
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> adminCli(replica, "INFO", "replication").contains("master_link_status:up"));
      for (GenericContainer<?> node : java.util.List.of(primary, replica)) {
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> adminCli(node, "CLUSTER", "INFO").contains("cluster_state:ok"));
      }
      assertThat(adminCli(primary, "SET", "{k}written", "before-the-stop")).isEqualTo("OK");

      var prestop = primary.execInContainer("valkey-entrypoint", "prestop");
      System.out.print(prestop.getStderr()); // the handover's steps, for whoever reads the report

      assertThat(prestop.getExitCode()).isZero();
      assertThat(prestop.getStderr()).contains("took over this primary's slots");
      assertThat(adminCli(primary, "ROLE")).startsWith("slave");
      assertThat(adminCli(replica, "ROLE")).startsWith("master");
      assertThat(adminCli(replica, "GET", "{k}written")).isEqualTo("before-the-stop");

      var again = primary.execInContainer("valkey-entrypoint", "prestop");
      assertThat(again.getExitCode()).isZero();
      assertThat(again.getStderr()).contains("not a primary owning slots");
    }
  }

  /** A cluster-mode container reachable on the network by its pod name, announcing it. */
  private static GenericContainer<?> node(Network network, String name) {
    Map<String, String> env = new HashMap<>(ValkeyContainers.passwords());
    env.put("VALKEY_MODE", "cluster");
    env.put("VALKEY_ANNOUNCE_HOSTNAME", name);
    env.put("VALKEY_PRESTOP_TIMEOUT_SECONDS", "20");
    return ValkeyContainers.valkey(env)
        .withNetwork(network)
        .withNetworkAliases(name)
        .withCreateContainerCmdModifier(
            cmd -> {
              cmd.withHostName(name);
              cmd.getHostConfig().withReadonlyRootfs(true);
            });
  }
}
