package io.valkeyk8s.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

class MainTest {
  private final StringWriter err = new StringWriter();

  private int run(Map<String, String> env, String... args) {
    CommandLine cli = Main.commandLine(env);
    cli.setErr(new PrintWriter(err, true));
    return cli.execute(args);
  }

  @Test
  void sentinelModeWithoutItsHostExitsTwoNamingTheVariable() {
    assertThat(run(Map.of())).isEqualTo(2);
    assertThat(err.toString())
        .isEqualTo(
            "invalid configuration: VALKEY_SENTINEL_HOST: is required but not set"
                + System.lineSeparator());
  }

  @Test
  void theSentinelSubcommandValidatesTheSameWay() {
    assertThat(run(Map.of("VALKEY_SENTINEL_HOST", "s", "VALKEY_SENTINEL_PORT", "0"), "sentinel"))
        .isEqualTo(2);
    assertThat(err.toString()).contains("VALKEY_SENTINEL_PORT: 0 is out of range [1, 65535]");
  }

  @Test
  void aBadLabelNameIsRefused() {
    assertThat(
            run(
                Map.of("VALKEY_SENTINEL_HOST", "s", "MASTER_POD_LABEL_NAME", "bad name"),
                "sentinel"))
        .isEqualTo(2);
    assertThat(err.toString())
        .contains("MASTER_POD_LABEL_NAME: 'bad name' is not a valid Kubernetes label name");
  }

  @Test
  void aBadFastFailoverSettingExitsTwoInOneLine() {
    assertThat(run(Map.of("VALKEY_SENTINEL_HOST", "s", "VALKEY_FAST_FAILOVER", "on"), "sentinel"))
        .isEqualTo(2);
    assertThat(err.toString())
        .isEqualTo(
            "invalid configuration: VALKEY_FAST_FAILOVER: 'on' is not true or false"
                + System.lineSeparator());
  }

  @ParameterizedTest
  @ValueSource(strings = {"cluster", "init", "scale-up", "scale-down"})
  void everyClusterCommandRefusesFewerThanThreeMastersWithExitTwo(String command) {
    assertThat(run(Map.of("VALKEY_CLUSTER_MASTERS", "2"), command)).isEqualTo(2);
  }

  @Test
  void theClusterCommandValidatesTheSharedSettingsToo() {
    assertThat(run(Map.of("VALKEY_CLUSTER_MASTERS", "3", "HTTP_PORT", "70000"), "cluster"))
        .isEqualTo(2);
    assertThat(err.toString()).contains("HTTP_PORT");
  }
}
