package io.valkeyk8s.reconciler.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigTest {
  @Test
  void defaultsMatchTheContract() {
    Config c = Config.fromEnv(Map.of());
    assertThat(c.namespace()).isEqualTo("default");
    assertThat(c.podSelector()).containsExactly(Map.entry("app.kubernetes.io/component", "valkey"));
    assertThat(c.valkeyPort()).isEqualTo(6379);
    assertThat(c.valkeyUsername()).isEqualTo("admin");
    assertThat(c.valkeyPassword()).isEmpty();
    assertThat(c.httpPort()).isEqualTo(8080);
    assertThat(c.leaseName()).isEqualTo("valkey-reconciler");
    assertThat(c.leaderElection()).isTrue();
    assertThat(c.resync()).isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void anEmptyLeaseNameTurnsElectionOff() {
    assertThat(Config.fromEnv(Map.of("LEASE_NAME", "")).leaderElection()).isFalse();
  }

  @Test
  void readsASelectorWithSeveralTerms() {
    Config c =
        Config.fromEnv(
            Map.of(
                "VALKEY_POD_SELECTOR",
                "app.kubernetes.io/instance=a, app.kubernetes.io/component=valkey"));
    assertThat(c.podSelector())
        .containsOnly(
            Map.entry("app.kubernetes.io/instance", "a"),
            Map.entry("app.kubernetes.io/component", "valkey"));
  }

  @Test
  void namesTheVariableOfEachProblem() {
    assertThatThrownBy(() -> Config.fromEnv(Map.of("VALKEY_PORT", "sixty")))
        .hasMessage("VALKEY_PORT: 'sixty' is not an integer");
    assertThatThrownBy(() -> Config.fromEnv(Map.of("HTTP_PORT", "70000")))
        .hasMessage("HTTP_PORT: 70000 is out of range [0, 65535]");
    assertThatThrownBy(() -> Config.fromEnv(Map.of("RESYNC_SECONDS", "0")))
        .hasMessageStartingWith("RESYNC_SECONDS: ");
    assertThatThrownBy(() -> Config.fromEnv(Map.of("POD_NAMESPACE", "Not_A_Namespace")))
        .hasMessageStartingWith("POD_NAMESPACE: ");
    assertThatThrownBy(() -> Config.fromEnv(Map.of("VALKEY_POD_SELECTOR", "novalue")))
        .hasMessageStartingWith("VALKEY_POD_SELECTOR: ");
    assertThatThrownBy(() -> Config.fromEnv(Map.of("LEASE_NAME", "Bad Name")))
        .hasMessageStartingWith("LEASE_NAME: ");
  }
}
