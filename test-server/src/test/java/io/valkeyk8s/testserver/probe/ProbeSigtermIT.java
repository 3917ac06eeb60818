package io.valkeyk8s.testserver.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.valkeyk8s.testserver.Main;
import io.valkeyk8s.testserver.local.LocalProcess;
import io.valkeyk8s.testserver.local.LocalValkey;
import io.valkeyk8s.testserver.local.Users;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The probe as its own process: SIGTERM (a pod being deleted) still ends with a full report. */
class ProbeSigtermIT {
  @TempDir Path dir;

  @Test
  void sigtermStopsWritingAndPrintsTheReport() throws Exception {
    try (LocalValkey valkey = new LocalValkey(dir)) {
      LocalProcess server = valkey.startServer("standalone", null, 0);
      Path out = dir.resolve("report.json");
      Path err = dir.resolve("probe.log");
      ProcessBuilder builder = new ProcessBuilder(List.of(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", testClassPath(), Main.class.getName(),
          "probe", "--duration", "10m", "--interval", "10ms", "--json"))
          .redirectOutput(out.toFile())
          .redirectError(err.toFile());
      builder.environment().putAll(java.util.Map.of("VALKEY_HOST", server.host(),
          "VALKEY_PORT", "" + server.port(), "VALKEY_PASSWORD", Users.CLIENT_PASSWORD));
      Process probe = builder.start();
      try {
        await("probe writes").atMost(Duration.ofSeconds(30))
            .until(() -> valkey.call(server, c -> c.dbsize()) >= 20);

        probe.destroy(); // SIGTERM

        assertThat(probe.waitFor(30, TimeUnit.SECONDS)).as("probe exits after SIGTERM").isTrue();
        JsonNode report = new ObjectMapper().readTree(Files.readString(out));
        assertThat(report.get("ackedWrites").asLong()).isGreaterThanOrEqualTo(20);
        assertThat(report.get("missingAckedWrites").asLong()).isZero();
        assertThat(report.get("verified").asBoolean()).isTrue();
        assertThat(report.get("durationMs").asLong()).isLessThan(Duration.ofMinutes(10).toMillis());
      } finally {
        probe.destroyForcibly();
        probe.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  /** Failsafe passes the real class path here (java.class.path is its booter jar). */
  private static String testClassPath() {
    String path = System.getProperty("surefire.test.class.path");
    return path != null ? path : System.getProperty("java.class.path");
  }
}
