package io.valkeyk8s.image;

import static io.valkeyk8s.image.ValkeyContainers.ADMIN_PASSWORD;
import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;

/**
 * VALKEY_MODE=cluster starts Valkey with cluster mode on and its node identity in the data volume.
 */
class ClusterModeIT {

  @Test
  void startsWithClusterModeAndNodesFileInTheDataDir() throws Exception {
    Map<String, String> env = new HashMap<>(ValkeyContainers.passwords());
    env.put("VALKEY_MODE", "cluster");
    env.put("VALKEY_ANNOUNCE_HOSTNAME", "valkey-0.valkey-headless.default.svc.cluster.local");
    try (GenericContainer<?> valkey = ValkeyContainers.valkey(env)) {
      valkey.start();
      RedisClient client = ValkeyContainers.client(valkey, "admin", ADMIN_PASSWORD);
      try (StatefulRedisConnection<String, String> connection = client.connect()) {
        assertThat(connection.sync().info("cluster")).contains("cluster_enabled:1");
        assertThat(connection.sync().clusterMyId()).hasSize(40);
      } finally {
        client.shutdown();
      }
      assertThat(valkey.execInContainer("cat", "/data/nodes.conf").getStdout()).contains("myself");
    }
  }
}
