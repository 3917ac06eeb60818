package io.valkeyk8s.testserver.probe;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.valkeyk8s.testserver.Main;
import io.valkeyk8s.testserver.ValkeyTarget;
import io.valkeyk8s.testsupport.AclUsers;
import io.valkeyk8s.testsupport.LoopbackValkey;
import io.valkeyk8s.testsupport.ValkeyProcess;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The probe command and its lost-write count against a real valkey-server. */
class ProbeIT {
  @TempDir Path dir;
  private LoopbackValkey valkey;
  private ValkeyProcess server;

  @BeforeEach
  void start() throws Exception {
    valkey = LoopbackValkey.withUsers(AclUsers.random());
    server = valkey.startServer("standalone", valkey.newHost(), List.of());
  }

  @AfterEach
  void stop() {
    valkey.close();
  }

  @Test
  void probeCommandPrintsAJsonReport() throws Exception {
    StringWriter out = new StringWriter();
    CommandLine cli =
        Main.commandLine(
            Map.of(
                "VALKEY_HOST",
                server.host(),
                "VALKEY_PORT",
                "" + server.port(),
                "VALKEY_PASSWORD",
                valkey.users().orElseThrow().clientPassword()));
    cli.setOut(new PrintWriter(out, true));

    Path csv = dir.resolve("writes.csv");
    int exit =
        cli.execute(
            "probe",
            "--duration",
            "2s",
            "--interval",
            "10ms",
            "--json",
            "--run-id",
            "cli",
            "--writes-csv",
            csv.toString());

    assertThat(exit).isZero();
    JsonNode report = new ObjectMapper().readTree(out.toString());
    assertThat(report.get("runId").asText()).isEqualTo("cli");
    assertThat(report.get("target").asText()).isEqualTo(server.host() + ":" + server.port());
    assertThat(report.get("ackedWrites").asLong()).isPositive();
    assertThat(report.get("ackedWrites").asLong() + report.get("failedWrites").asLong())
        .isEqualTo(report.get("totalWrites").asLong());
    assertThat(report.get("missingAckedWrites").asLong()).isZero();
    assertThat(report.get("verified").asBoolean()).isTrue();
    List<String> lines = Files.readAllLines(csv);
    assertThat(lines.getFirst()).isEqualTo("id,start,end,latencyMs,result");
    assertThat(lines).hasSize(1 + report.get("totalWrites").asInt());
    assertThat(lines.get(1)).startsWith("1,").endsWith(",ok");
    String first = valkey.call(server, c -> c.get("probe:{cli}:1"));
    Long ttl = valkey.call(server, c -> c.pttl("probe:{cli}:1"));
    assertThat(first).isEqualTo("1");
    assertThat(ttl).isPositive();
  }

  @Test
  void acknowledgedWritesDeletedAfterwardsAreCountedMissing() {
    try (ProbeSession session =
        new ProbeSession(
            new ValkeyTarget(
                server.host(),
                server.port(),
                "client",
                valkey.users().orElseThrow().clientPassword()),
            Duration.ofMillis(500),
            new ProbeOptions(Duration.ZERO, null, 100, Duration.ofMinutes(5)),
            Duration.ofSeconds(10),
            "lost")) {
      session.run();
      // What a failover that loses writes looks like from the read-back: the keys are gone.
      valkey.call(server, c -> c.del("probe:{lost}:10", "probe:{lost}:20", "probe:{lost}:30"));

      ProbeReport report = session.report();

      assertThat(report.ackedWrites()).isEqualTo(100);
      assertThat(report.missingAckedWrites()).isEqualTo(3);
      assertThat(report.missingIds()).containsExactly(10L, 20L, 30L);
      assertThat(report.exitCode()).isEqualTo(1);
    }
  }

  @Test
  void aProbeThatCannotReadBackSaysSoInsteadOfCountingWritesMissing() {
    try (ProbeSession session =
        new ProbeSession(
            new ValkeyTarget(
                server.host(),
                server.port(),
                "client",
                valkey.users().orElseThrow().clientPassword()),
            Duration.ofMillis(250),
            new ProbeOptions(Duration.ZERO, null, 20, Duration.ofMinutes(5)),
            Duration.ofSeconds(1),
            "gone")) {
      session.run();
      server.kill();

      ProbeReport report = session.report();

      assertThat(report.verified()).isFalse();
      assertThat(report.missingAckedWrites()).isZero();
      assertThat(report.unverifiedAckedWrites()).isEqualTo(20);
      assertThat(report.exitCode()).isEqualTo(3);
    }
  }
}
