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
  void durationsAsWrittenOnACommandLine() {
    assertThat(DurationConverter.parse("20ms")).isEqualTo(Duration.ofMillis(20));
    assertThat(DurationConverter.parse("60s")).isEqualTo(Duration.ofSeconds(60));
    assertThat(DurationConverter.parse("5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(DurationConverter.parse("1h")).isEqualTo(Duration.ofHours(1));
  }
}
