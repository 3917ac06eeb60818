package io.valkeyk8s.testserver.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.valkeyk8s.testserver.Main;
import io.valkeyk8s.testsupport.AclUsers;
import io.valkeyk8s.testsupport.LoopbackValkey;
import io.valkeyk8s.testsupport.ValkeyProcess;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The test server as its own process, as in a pod: SIGTERM (the pod being deleted) still ends with
 * a full report, for {@code probe} and for {@code serve --probe}.
 */
class ProbeSigtermIT {
  @TempDir Path dir;

  private Process start(ValkeyProcess server, String password, Path out, Path err, String... args)
      throws IOException {
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                testClassPath(),
                Main.class.getName()));
    command.addAll(List.of(args));
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
    builder
        .environment()
        .putAll(
            Map.of(
                "VALKEY_HOST",
                server.host(),
                "VALKEY_PORT",
                "" + server.port(),
                "VALKEY_PASSWORD",
                password));
    return builder.start();
  }

  @Test
  void sigtermStopsWritingAndPrintsTheReport() throws Exception {
    try (LoopbackValkey valkey = LoopbackValkey.withUsers(AclUsers.random())) {
      ValkeyProcess server = valkey.startServer("standalone", valkey.newHost(), List.of());
      Path out = dir.resolve("report.json");
      Path err = dir.resolve("probe.log");
      Process probe =
          start(
              server,
              valkey.users().orElseThrow().clientPassword(),
              out,
              err,
              "probe",
              "--duration",
              "10m",
              "--interval",
              "10ms",
              "--json");
      try {
        await("probe writes")
            .atMost(Duration.ofSeconds(30))
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

  @Test
  void serveAnswersReportAndPrintsTheLastReportOnSigterm() throws Exception {
    try (LoopbackValkey valkey = LoopbackValkey.withUsers(AclUsers.random())) {
      ValkeyProcess server = valkey.startServer("standalone", valkey.newHost(), List.of());
      Path out = dir.resolve("serve.out");
      Path err = dir.resolve("serve.log");
      int port = freePort();
      Process serve =
          start(
              server,
              valkey.users().orElseThrow().clientPassword(),
              out,
              err,
              "serve",
              "--probe",
              "--bind",
              "127.0.0.1",
              "--port",
              "" + port,
              "--interval",
              "10ms");
      try {
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest report =
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/report"))
                .timeout(Duration.ofSeconds(10))
                .build();
        await("GET /report shows acknowledged writes")
            .atMost(Duration.ofSeconds(30))
            .ignoreExceptions()
            .until(
                () ->
                    new ObjectMapper()
                            .readTree(
                                http.send(report, HttpResponse.BodyHandlers.ofString()).body())
                            .get("ackedWrites")
                            .asLong()
                        >= 20);

        serve.destroy(); // SIGTERM

        assertThat(serve.waitFor(30, TimeUnit.SECONDS)).as("serve exits after SIGTERM").isTrue();
        assertThat(Files.readString(out))
            .containsPattern("writes: \\d+ total, \\d+ acknowledged, \\d+ failed")
            .contains("acknowledged writes missing: 0 of");
      } finally {
        serve.destroyForcibly();
        serve.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /** Failsafe passes the real class path here (java.class.path is its booter jar). */
  private static String testClassPath() {
    String path = System.getProperty("surefire.test.class.path");
    return path != null ? path : System.getProperty("java.class.path");
  }
}
