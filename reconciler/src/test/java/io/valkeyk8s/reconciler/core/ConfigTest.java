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
    assertThat(c.valkeyPassword().current()).isEmpty();
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

  @Test
  void aBlankSelectorIsRefusedRatherThanMatchingEveryPod() {
    assertThatThrownBy(() -> Config.fromEnv(Map.of("VALKEY_POD_SELECTOR", " ")))
        .hasMessage("VALKEY_POD_SELECTOR: must not be empty");
  }

  @Test
  void theSentinelPartHasTheOriginalToolsDefaults() {
    Config.Sentinel s = Config.Sentinel.fromEnv(Map.of("VALKEY_SENTINEL_HOST", "sentinel"));
    assertThat(s.sentinelPort()).isEqualTo(26379);
    assertThat(s.masterName()).isEqualTo("myprimary");
    assertThat(s.labelName()).isEqualTo("valkey-master");
    assertThat(s.labelValue()).isEqualTo("true");
    assertThat(s.sentinelPassword().current()).isEmpty();
    assertThat(s.handoverFailover()).isEqualTo(Config.Sentinel.HandoverFailover.FORCED);
    assertThat(s.fastFailover()).isTrue();
    assertThat(s.primarySlice()).isEmpty();
    assertThat(s.kubeProxyMinSync()).isEqualTo(java.time.Duration.ofSeconds(1));
  }

  @Test
  void kubeProxysMinSyncPeriodIsMillisecondsAndZeroStartsHandoversAtOnce() {
    assertThat(
            Config.Sentinel.fromEnv(
                    Map.of("VALKEY_SENTINEL_HOST", "s", "VALKEY_KUBE_PROXY_MIN_SYNC_MS", "0"))
                .kubeProxyMinSync())
        .isZero();
    assertThatThrownBy(
            () ->
                Config.Sentinel.fromEnv(
                    Map.of("VALKEY_SENTINEL_HOST", "s", "VALKEY_KUBE_PROXY_MIN_SYNC_MS", "1s")))
        .hasMessage("VALKEY_KUBE_PROXY_MIN_SYNC_MS: '1s' is not an integer");
  }

  @Test
  void thePrimarySliceNeedsItsService() {
    assertThat(
            Config.Sentinel.fromEnv(
                    Map.of(
                        "VALKEY_SENTINEL_HOST",
                        "s",
                        "VALKEY_PRIMARY_ENDPOINT_SLICE",
                        "v-primary",
                        "VALKEY_PRIMARY_SERVICE",
                        "v"))
                .primarySlice())
        .contains(new Config.Sentinel.PrimarySlice("v-primary", "v", "valkey"));
    assertThatThrownBy(
            () ->
                Config.Sentinel.fromEnv(
                    Map.of("VALKEY_SENTINEL_HOST", "s", "VALKEY_PRIMARY_ENDPOINT_SLICE", "v-p")))
        .hasMessageStartingWith("VALKEY_PRIMARY_SERVICE: ");
    assertThatThrownBy(
            () ->
                Config.Sentinel.fromEnv(
                    Map.of("VALKEY_SENTINEL_HOST", "s", "VALKEY_PRIMARY_ENDPOINT_SLICE", "V_P")))
        .hasMessage("VALKEY_PRIMARY_ENDPOINT_SLICE: 'V_P' is not a valid object name");
    assertThatThrownBy(
            () ->
                Config.Sentinel.fromEnv(
                    Map.of(
                        "VALKEY_SENTINEL_HOST",
                        "s",
                        "VALKEY_PRIMARY_ENDPOINT_SLICE",
                        "v-p",
                        "VALKEY_PRIMARY_SERVICE",
                        "v",
                        "VALKEY_PRIMARY_SERVICE_PORT_NAME",
                        "Not_A_Port")))
        .hasMessage("VALKEY_PRIMARY_SERVICE_PORT_NAME: 'Not_A_Port' is not a valid port name");
  }

  @Test
  void theHandoverFailoverIsForcedOrCoordinated() {
    assertThat(
            Config.Sentinel.fromEnv(
                    Map.of("VALKEY_SENTINEL_HOST", "s", "VALKEY_HANDOVER_FAILOVER", "Coordinated"))
                .handoverFailover())
        .isEqualTo(Config.Sentinel.HandoverFailover.COORDINATED);
    assertThatThrownBy(
            () ->
                Config.Sentinel.fromEnv(
                    Map.of("VALKEY_SENTINEL_HOST", "s", "VALKEY_HANDOVER_FAILOVER", "polite")))
        .hasMessage("VALKEY_HANDOVER_FAILOVER: 'polite' is not coordinated or forced");
  }

  @Test
  void theCrashFastPathCanBeSwitchedOff() {
    assertThat(
            Config.Sentinel.fromEnv(
                    Map.of("VALKEY_SENTINEL_HOST", "sentinel", "VALKEY_FAST_FAILOVER", "FALSE"))
                .fastFailover())
        .isFalse();
  }

  @Test
  void aFastFailoverSettingThatIsNoBooleanIsRefused() {
    assertThatThrownBy(
            () ->
                Config.Sentinel.fromEnv(
                    Map.of("VALKEY_SENTINEL_HOST", "sentinel", "VALKEY_FAST_FAILOVER", "yes")))
        .hasMessage("VALKEY_FAST_FAILOVER: 'yes' is not true or false");
  }

  private static Config.Cluster cluster(Map<String, String> env) {
    return Config.Cluster.fromEnv(env, Config.fromEnv(env));
  }

  @Test
  void clusterDefaultsApplyWhenOnlyMastersIsSet() {
    Map<String, String> env = Map.of("VALKEY_CLUSTER_MASTERS", "3");
    Config c = Config.fromEnv(env);
    Config.Cluster s = cluster(env);
    assertThat(s.masters()).isEqualTo(3);
    assertThat(s.replicasPerMaster()).isZero();
    assertThat(c.valkeyPort()).isEqualTo(6379);
    assertThat(c.valkeyUsername()).isEqualTo("admin");
    assertThat(c.valkeyPassword().current()).isEmpty();
    assertThat(c.namespace()).isEqualTo("default");
    assertThat(c.podSelector()).containsExactly(Map.entry("app.kubernetes.io/component", "valkey"));
    assertThat(c.resync()).isEqualTo(Duration.ofSeconds(10));
    assertThat(s.podCount()).isEqualTo(3);
  }

  @Test
  void clusterModeReadsEveryVariable() {
    Map<String, String> env =
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
            "5");
    Config c = Config.fromEnv(env);
    Config.Cluster s = cluster(env);
    assertThat(s.podCount()).isEqualTo(12);
    assertThat(c.valkeyPort()).isEqualTo(7000);
    assertThat(c.valkeyPassword().current()).contains("s3cret");
    assertThat(c.toString() + " " + s).doesNotContain("s3cret");
  }

  @Test
  void badClusterValuesFailWithOneLineNamingTheVariable() {
    assertThatThrownBy(() -> cluster(Map.of()))
        .hasMessage("VALKEY_CLUSTER_MASTERS: is required but not set");
    assertThatThrownBy(() -> cluster(Map.of("VALKEY_CLUSTER_MASTERS", "2")))
        .hasMessageStartingWith("VALKEY_CLUSTER_MASTERS: 2 is below 3");
    assertThatThrownBy(
            () ->
                cluster(
                    Map.of(
                        "VALKEY_CLUSTER_MASTERS", "3", "VALKEY_CLUSTER_REPLICAS_PER_MASTER", "-1")))
        .hasMessageContaining("VALKEY_CLUSTER_REPLICAS_PER_MASTER: -1");
    assertThatThrownBy(() -> cluster(Map.of("VALKEY_CLUSTER_MASTERS", "3", "VALKEY_PORT", "60000")))
        .hasMessageContaining("VALKEY_PORT: 60000");
    assertThatThrownBy(() -> cluster(Map.of("VALKEY_CLUSTER_MASTERS", "3", "VALKEY_PORT", "x")))
        .hasMessage("VALKEY_PORT: 'x' is not an integer");
    assertThatThrownBy(
            () -> cluster(Map.of("VALKEY_CLUSTER_MASTERS", "3", "VALKEY_POD_SELECTOR", " ")))
        .hasMessageContaining("VALKEY_POD_SELECTOR");
  }
}
