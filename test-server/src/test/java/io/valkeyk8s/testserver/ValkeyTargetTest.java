package io.valkeyk8s.testserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ValkeyTargetTest {

  @Test
  void defaultsAreThePrimaryServiceAndTheClientUser() {
    ValkeyTarget target = ValkeyTarget.fromEnv(Map.of("VALKEY_PASSWORD", "secret"));

    assertThat(target.host()).isEqualTo("valkey");
    assertThat(target.port()).isEqualTo(6379);
    assertThat(target.username()).isEqualTo("client");
    assertThat(target.toString()).doesNotContain("secret");
  }

  @Test
  void settingsFromEnvironment() {
    ValkeyTarget target =
        ValkeyTarget.fromEnv(
            Map.of(
                "VALKEY_HOST",
                "cache",
                "VALKEY_PORT",
                "6380",
                "VALKEY_USERNAME",
                "app",
                "VALKEY_PASSWORD",
                "pw"));

    assertThat(target).isEqualTo(new ValkeyTarget("cache", 6380, "app", "pw"));
  }

  @Test
  void missingOrEmptyPasswordIsRefused() {
    assertThatThrownBy(() -> ValkeyTarget.fromEnv(Map.of()))
        .hasMessage("VALKEY_PASSWORD is not set: the password of user client is required");
    assertThatThrownBy(() -> ValkeyTarget.fromEnv(Map.of("VALKEY_PASSWORD", "")))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void badPortIsRefused() {
    assertThatThrownBy(
            () -> ValkeyTarget.fromEnv(Map.of("VALKEY_PASSWORD", "pw", "VALKEY_PORT", "http")))
        .hasMessage("VALKEY_PORT must be a port number (1-65535), got: http");
    assertThatThrownBy(
            () -> ValkeyTarget.fromEnv(Map.of("VALKEY_PASSWORD", "pw", "VALKEY_PORT", "70000")))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
