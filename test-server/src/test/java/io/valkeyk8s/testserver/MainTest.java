package io.valkeyk8s.testserver;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Bad input ends at once with exit 2 and one line, before any connection is made. */
class MainTest {
  private final StringWriter err = new StringWriter();

  private int run(Map<String, String> env, String... args) {
    CommandLine cli = Main.commandLine(env);
    cli.setErr(new PrintWriter(err, true));
    cli.setOut(new PrintWriter(new StringWriter(), true));
    return cli.execute(args);
  }

  @Test
  void probeWithoutPasswordExitsWithOneClearLine() {
    assertThat(run(Map.of(), "probe")).isEqualTo(2);
    assertThat(err.toString().strip())
        .isEqualTo("error: VALKEY_PASSWORD is not set: the password of user client is required");
  }

  @Test
  void serveWithoutPasswordExitsTheSameWay() {
    assertThat(run(Map.of(), "serve", "--port", "0")).isEqualTo(2);
    assertThat(err.toString()).startsWith("error: VALKEY_PASSWORD is not set");
  }

  @Test
  void aDurationWithoutUnitIsAUsageError() {
    assertThat(run(Map.of("VALKEY_PASSWORD", "pw"), "probe", "--duration", "10")).isEqualTo(2);
    assertThat(err.toString()).contains("'10' is not a duration");
  }

  @Test
  void aCommandIsRequired() {
    assertThat(run(Map.of())).isEqualTo(2);
    assertThat(err.toString()).contains("a command is required");
  }

  @Test
  void badTlsSettingsEndEveryCommandWithOneLine() {
    Map<String, String> env =
        Map.of("VALKEY_PASSWORD", "pw", "VALKEY_TLS", "true", "VALKEY_TLS_CA_FILE", "/nonexistent");
    for (String[] args :
        new String[][] {
          {"probe"}, {"serve", "--port", "0"}, {"keys", "check", "--count", "1", "--prefix", "p"}
        }) {
      err.getBuffer().setLength(0);
      assertThat(run(env, args)).as(String.join(" ", args)).isEqualTo(2);
      assertThat(err.toString().strip())
          .isEqualTo("error: VALKEY_TLS_CA_FILE: cannot read /nonexistent (no such file)");
    }
  }

  @Test
  void badProbeAndKeysOptionsAreUsageErrors() {
    Map<String, String> env = Map.of("VALKEY_PASSWORD", "pw");
    assertThat(run(env, "probe", "--http-port", "70000")).isEqualTo(2);
    assertThat(err.toString()).contains("--http-port must be a port (0-65535), got: 70000");
    assertThat(run(env, "probe", "--timeout", "0ms")).isEqualTo(2);
    assertThat(err.toString()).contains("--timeout must be more than 0");
    assertThat(run(env, "keys")).isEqualTo(2);
    assertThat(err.toString()).contains("a keys command is required: load or check");
    assertThat(run(env, "keys", "load", "--prefix", "p")).isEqualTo(2);
    assertThat(err.toString()).contains("Missing required option: '--count=<count>'");
    assertThat(run(env, "keys", "load", "--count", "0", "--prefix", "p")).isEqualTo(2);
    assertThat(err.toString()).contains("--count must be 1 to 100000000, got: 0");
    assertThat(run(env, "keys", "check", "--count", "5", "--prefix", "a b")).isEqualTo(2);
    assertThat(err.toString()).contains("--prefix must be a non-empty word without spaces");
    assertThat(run(env, "keys", "load", "--count", "5", "--prefix", "p", "--value-size", "2000000"))
        .isEqualTo(2);
    assertThat(err.toString()).contains("--value-size must be 1 to 1048576 bytes");
  }

  @Test
  void durationsAsWrittenOnACommandLine() {
    assertThat(DurationConverter.parse("20ms")).isEqualTo(Duration.ofMillis(20));
    assertThat(DurationConverter.parse("60s")).isEqualTo(Duration.ofSeconds(60));
    assertThat(DurationConverter.parse("5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(DurationConverter.parse("1h")).isEqualTo(Duration.ofHours(1));
  }
}
