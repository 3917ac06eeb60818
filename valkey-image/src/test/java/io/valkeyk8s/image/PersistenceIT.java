package io.valkeyk8s.image;

import static io.valkeyk8s.image.ValkeyContainers.ADMIN_PASSWORD;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Volume;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.testcontainers.containers.GenericContainer;

/**
 * VALKEY_PERSISTENCE decides which files land in the data volume, and whether the data survives the
 * container being stopped (SIGTERM) and a new one started on the same volume, as a pod restart
 * does.
 */
class PersistenceIT {

  @ParameterizedTest(name = "persistence ''{0}''")
  @CsvSource(
      delimiter = '|',
      value = {
        // mode    | dump.rdb | appendonlydir | data survives
        "rdb       | true     | false         | true",
        "aof       | false    | true          | true",
        "'rdb,aof' | true     | true          | true",
        "~         | false    | false         | false",
      })
  void writesTheFilesOfItsModeAndKeepsDataAcrossRestart(
      String mode, boolean rdbFile, boolean aofDir, boolean survives) throws Exception {
    String volume = "valkey-it-" + UUID.randomUUID();
    Map<String, String> env = new HashMap<>(ValkeyContainers.passwords());
    env.put("VALKEY_PERSISTENCE", mode);
    try {
      GenericContainer<?> first = ValkeyContainers.container("valkey", env, volume);
      first.start();
      try {
        write(first, "survivor", "v-" + mode);
      } finally {
        ValkeyContainers.stopGracefully(first);
      }

      List<String> files = listData(volume);
      assertThat(files.contains("dump.rdb")).as("dump.rdb in %s", files).isEqualTo(rdbFile);
      assertThat(files.contains("appendonlydir"))
          .as("appendonlydir in %s", files)
          .isEqualTo(aofDir);

      GenericContainer<?> second = ValkeyContainers.container("valkey", env, volume);
      second.start();
      try {
        assertThat(read(second, "survivor")).isEqualTo(survives ? "v-" + mode : null);
      } finally {
        second.stop();
      }
    } finally {
      ValkeyContainers.removeVolume(volume);
    }
  }

  private static List<String> listData(String volume) throws InterruptedException {
    var exit =
        ValkeyContainers.runToExit(
            Map.of(), List.of(new Bind(volume, new Volume("/data"))), List.of("ls"), "-A", "/data");
    assertThat(exit.code()).as(exit.output()).isZero();
    return exit.lines();
  }

  private static void write(GenericContainer<?> valkey, String key, String value) {
    RedisClient client = ValkeyContainers.client(valkey, "admin", ADMIN_PASSWORD);
    try (StatefulRedisConnection<String, String> connection = client.connect()) {
      assertThat(connection.sync().set(key, value)).isEqualTo("OK");
    } finally {
      client.shutdown();
    }
  }

  private static String read(GenericContainer<?> valkey, String key) {
    RedisClient client = ValkeyContainers.client(valkey, "admin", ADMIN_PASSWORD);
    try (StatefulRedisConnection<String, String> connection = client.connect()) {
      return connection.sync().get(key);
    } finally {
      client.shutdown();
    }
  }
}
