package io.valkeyk8s.image;

import static io.valkeyk8s.image.ValkeyContainers.ADMIN_PASSWORD;
import static io.valkeyk8s.image.ValkeyContainers.CLIENT_PASSWORD;
import static io.valkeyk8s.image.ValkeyContainers.VALKEY_PORT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.protocol.ProtocolVersion;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;

/** The ACL users rendered from config/users.acl, seen by a real client. */
class AclIT {

  private static GenericContainer<?> valkey;

  @BeforeAll
  static void start() {
    valkey = ValkeyContainers.valkey(ValkeyContainers.passwords());
    valkey.start();
  }

  @AfterAll
  static void stop() {
    if (valkey != null) {
      valkey.stop();
    }
  }

  @Test
  void clientReadsAndWritesData() {
    withUser(
        "client",
        CLIENT_PASSWORD,
        redis -> {
          assertThat(redis.set("greeting", "hello")).isEqualTo("OK");
          assertThat(redis.get("greeting")).isEqualTo("hello");
          assertThat(redis.incr("counter")).isPositive();
        });
  }

  @Test
  void clientCannotRunDangerousCommands() {
    withUser(
        "client",
        CLIENT_PASSWORD,
        redis -> {
          assertThatThrownBy(redis::flushall).hasMessageContaining("NOPERM");
          assertThatThrownBy(() -> redis.configGet("maxmemory")).hasMessageContaining("NOPERM");
          assertThatThrownBy(() -> redis.configSet("maxmemory", "1mb"))
              .hasMessageContaining("NOPERM");
        });
  }

  @Test
  void adminCanRunEverything() {
    withUser(
        "admin",
        ADMIN_PASSWORD,
        redis -> {
          assertThat(redis.set("doomed", "1")).isEqualTo("OK");
          assertThat(redis.configGet("maxmemory")).containsKey("maxmemory");
          assertThat(redis.flushall()).isEqualTo("OK");
          assertThat(redis.exists("doomed")).isZero();
        });
  }

  @Test
  void defaultUserIsOff() throws Exception {
    RedisClient anonymous =
        RedisClient.create(
            RedisURI.builder()
                .withHost(valkey.getHost())
                .withPort(valkey.getMappedPort(VALKEY_PORT))
                .withTimeout(Duration.ofSeconds(10))
                .build());
    anonymous.setOptions(ClientOptions.builder().protocolVersion(ProtocolVersion.RESP2).build());
    try {
      // Lettuce's first command on a fresh connection is refused: nobody is logged in.
      assertThatThrownBy(() -> anonymous.connect().sync().ping()).hasStackTraceContaining("NOAUTH");
    } finally {
      anonymous.shutdown();
    }
    // Logging in as default fails whatever the password: the user is off.
    var asDefault =
        valkey.execInContainer(
            "valkey-cli",
            "--no-auth-warning",
            "--user",
            "default",
            "--pass",
            ADMIN_PASSWORD,
            "PING");
    assertThat(asDefault.getStdout() + asDefault.getStderr())
        .contains("WRONGPASS")
        .doesNotContain("PONG");
  }

  @Test
  void wrongPasswordIsRefused() {
    RedisClient client = ValkeyContainers.client(valkey, "client", "not-the-password");
    try {
      assertThatThrownBy(client::connect).hasStackTraceContaining("WRONGPASS");
    } finally {
      client.shutdown();
    }
  }

  @Test
  void runsAsUid999AndKeepsPasswordsOutOfTheImage() throws Exception {
    assertThat(valkey.execInContainer("id", "-u").getStdout().trim()).isEqualTo("999");
    // Templates in the image hold placeholders only; the rendered copy sits on the tmpfs.
    var template =
        valkey.execInContainer("cat", "/usr/share/valkey-k8s/config/users.acl").getStdout();
    assertThat(template).contains("${VALKEY_CLIENT_PASSWORD}").doesNotContain(CLIENT_PASSWORD);
    var rendered = valkey.execInContainer("cat", "/run/valkey/users.acl").getStdout();
    assertThat(rendered).contains(">" + CLIENT_PASSWORD + " ");
    // The root filesystem is read-only.
    assertThat(valkey.execInContainer("touch", "/etc/probe").getExitCode()).isNotZero();
  }

  private static void withUser(
      String user,
      String password,
      java.util.function.Consumer<RedisCommands<String, String>> body) {
    RedisClient client = ValkeyContainers.client(valkey, user, password);
    try (StatefulRedisConnection<String, String> connection = client.connect()) {
      body.accept(connection.sync());
    } finally {
      client.shutdown();
    }
  }
}
