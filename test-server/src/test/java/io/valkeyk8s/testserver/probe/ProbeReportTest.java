package io.valkeyk8s.testserver.probe;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProbeReportTest {
  private static final long MS = 1_000_000;
  private final ProbeClock clock = new ProbeClock(Instant.parse("2026-01-01T00:00:00Z"), 0);
  private final List<WriteAttempt> attempts =
      List.of(
          WriteAttempt.acked(1, 0, MS),
          WriteAttempt.failed(2, 20 * MS, 270 * MS, ErrorKind.TIMEOUT),
          WriteAttempt.failed(3, 290 * MS, 291 * MS, ErrorKind.CONNECTION),
          WriteAttempt.acked(4, 310 * MS, 320 * MS));

  private static Verification found(long acked) {
    return new Verification(acked, 0, List.of(), 0, 0, null);
  }

  @Test
  void jsonHasTheFieldsTestsAndBenchmarksParse() throws Exception {
    ProbeReport report = ProbeReport.of("run1", "valkey:6379", clock, 400 * MS, attempts, found(2));

    JsonNode json = new ObjectMapper().readTree(report.toJson());

    assertThat(json.get("runId").asText()).isEqualTo("run1");
    assertThat(json.get("startedAt").asText()).isEqualTo("2026-01-01T00:00:00Z");
    assertThat(json.get("endedAt").asText()).isEqualTo("2026-01-01T00:00:00.400Z");
    assertThat(json.get("durationMs").asLong()).isEqualTo(400);
    assertThat(json.get("totalWrites").asLong()).isEqualTo(4);
    assertThat(json.get("ackedWrites").asLong()).isEqualTo(2);
    assertThat(json.get("failedWrites").asLong()).isEqualTo(2);
    assertThat(json.get("unavailableMs").asLong()).isEqualTo(300);
    assertThat(json.get("longestUnavailableMs").asLong()).isEqualTo(300);
    assertThat(json.get("missingAckedWrites").asLong()).isZero();
    assertThat(json.get("verified").asBoolean()).isTrue();
    JsonNode window = json.get("windows").get(0);
    assertThat(window.get("start").asText()).isEqualTo("2026-01-01T00:00:00.020Z");
    assertThat(window.get("end").asText()).isEqualTo("2026-01-01T00:00:00.320Z");
    assertThat(window.get("durationMs").asLong()).isEqualTo(300);
    assertThat(window.get("errorKind").asText()).isEqualTo("timeout");
    assertThat(window.get("errors").get("connection").asInt()).isEqualTo(1);
    assertThat(window.get("ongoing").asBoolean()).isFalse();
    assertThat(ProbeReport.fromJson(report.toJson())).isEqualTo(report);
    assertThat(json.get("mode").asText()).isEqualTo("standalone");
    assertThat(json.has("cluster")).as("the cluster part only in cluster mode").isFalse();
  }

  @Test
  void aStatusReportSaysNothingWasReadBack() {
    ProbeReport status = ProbeReport.of("r", "t", clock, MS, attempts, Verification.notReadBack(2));

    assertThat(status.verified()).isFalse();
    assertThat(status.unverifiedAckedWrites()).isEqualTo(2);
    assertThat(status.missingAckedWrites()).isZero();
    assertThat(status.verificationError()).startsWith("not read back");
  }

  @Test
  void exitCodeSaysWhetherWritesWereLostOrUnverified() {
    assertThat(ProbeReport.of("r", "t", clock, MS, attempts, found(2)).exitCode()).isZero();
    assertThat(
            ProbeReport.of(
                    "r", "t", clock, MS, attempts, new Verification(2, 1, List.of(4L), 0, 0, null))
                .exitCode())
        .isEqualTo(1);
    assertThat(
            ProbeReport.of(
                    "r",
                    "t",
                    clock,
                    MS,
                    attempts,
                    new Verification(0, 0, List.of(), 2, 0, "could not read back writes"))
                .exitCode())
        .isEqualTo(3);
  }

  @Test
  void textNamesWindowsAndMissingWrites() {
    String text =
        ProbeReport.of(
                "run1",
                "valkey:6379",
                clock,
                400 * MS,
                attempts,
                new Verification(2, 1, List.of(4L), 0, 0, null))
            .toText();

    assertThat(text)
        .contains("writes: 4 total, 2 acknowledged, 2 failed")
        .contains("unavailability windows: 1 (total 300 ms, longest 300 ms)")
        .contains("300 ms  timeout  (2 failed: timeout=1, connection=1)")
        .contains("acknowledged writes missing: 1 of 2 (ids [4])");
  }
}
