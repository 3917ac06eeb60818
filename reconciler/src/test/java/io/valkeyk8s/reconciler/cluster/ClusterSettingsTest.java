package io.valkeyk8s.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClusterSettingsTest {

  @Test
  void defaultsApplyWhenOnlyMastersIsSet() {
    ClusterSettings s = ClusterSettings.fromEnv(Map.of("VALKEY_CLUSTER_MASTERS", "3"));
    assertThat(s.masters()).isEqualTo(3);
    assertThat(s.replicasPerMaster()).isZero();
    assertThat(s.port()).isEqualTo(6379);
    assertThat(s.username()).isEqualTo("admin");
    assertThat(s.password()).isNull();
    assertThat(s.namespace()).isEqualTo("default");
    assertThat(s.podSelector()).isEqualTo("app.kubernetes.io/component=valkey");
    assertThat(s.resyncInterval()).isEqualTo(Duration.ofSeconds(10));
    assertThat(s.podCount()).isEqualTo(3);
  }

  @Test
  void readsEveryVariable() {
    ClusterSettings s =
        ClusterSettings.fromEnv(
            Map.of(
                "VALKEY_CLUSTER_MASTERS",
                " 4 ",
                "VALKEY_CLUSTER_REPLICAS_PER_MASTER",
                "2",
                "VALKEY_PORT",
                "7000",
                "VALKEY_USERNAME",
                "ops",
                "VALKEY_PASSWORD",
                "s3cret",
                "POD_NAMESPACE",
                "data",
                "VALKEY_POD_SELECTOR",
                "app=v",
                "RESYNC_SECONDS",
                "5"));
    assertThat(s.podCount()).isEqualTo(12);
    assertThat(s.port()).isEqualTo(7000);
    assertThat(s.password()).isEqualTo("s3cret");
    assertThat(s.toString()).doesNotContain("s3cret");
  }

  @Test
  void badValuesFailWithOneLineNamingTheVariable() {
    assertThatThrownBy(() -> ClusterSettings.fromEnv(Map.of()))
        .hasMessage("VALKEY_CLUSTER_MASTERS is required in cluster commands");
    assertThatThrownBy(() -> ClusterSettings.fromEnv(Map.of("VALKEY_CLUSTER_MASTERS", "2")))
        .hasMessageStartingWith("VALKEY_CLUSTER_MASTERS=2 is below 3");
    assertThatThrownBy(
            () ->
                ClusterSettings.fromEnv(
                    Map.of(
                        "VALKEY_CLUSTER_MASTERS", "3", "VALKEY_CLUSTER_REPLICAS_PER_MASTER", "-1")))
        .hasMessageContaining("VALKEY_CLUSTER_REPLICAS_PER_MASTER=-1");
    assertThatThrownBy(
            () ->
                ClusterSettings.fromEnv(
                    Map.of("VALKEY_CLUSTER_MASTERS", "3", "VALKEY_PORT", "60000")))
        .hasMessageContaining("VALKEY_PORT=60000");
    assertThatThrownBy(
            () ->
                ClusterSettings.fromEnv(Map.of("VALKEY_CLUSTER_MASTERS", "3", "VALKEY_PORT", "x")))
        .hasMessage("VALKEY_PORT='x' is not a whole number");
    assertThatThrownBy(
            () ->
                ClusterSettings.fromEnv(
                    Map.of("VALKEY_CLUSTER_MASTERS", "3", "VALKEY_POD_SELECTOR", " ")))
        .hasMessageContaining("VALKEY_POD_SELECTOR");
  }

  @Test
  void commandsExitTwoOnBadSettingsWithoutTouchingKubernetes() {
    InitCommand init =
        new InitCommand(
            Map.of("VALKEY_CLUSTER_MASTERS", "1"),
            s -> {
              throw new AssertionError("must not connect");
            });
    assertThat(init.call()).isEqualTo(2);
    assertThat(init.lastError()).contains("VALKEY_CLUSTER_MASTERS=1");
  }
}
