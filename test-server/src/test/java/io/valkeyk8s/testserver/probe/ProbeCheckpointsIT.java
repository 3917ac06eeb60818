package io.valkeyk8s.testserver.probe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.valkeyk8s.testserver.Main;
import io.valkeyk8s.testsupport.AclUsers;
import io.valkeyk8s.testsupport.LoopbackValkey;
import io.valkeyk8s.testsupport.ValkeyProcess;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code probe --http-port}: checkpoints during a long run against a real valkey-server. {@code GET
 * /status} is the report so far without reading back, {@code GET /verify} reads back every write
 * acknowledged so far while the probe keeps writing, and finds a write lost in between.
 */
class ProbeCheckpointsIT {
  private final HttpClient http = HttpClient.newHttpClient();
  private final ObjectMapper json = new ObjectMapper();

  private JsonNode get(int port, String path) throws Exception {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(path + ": " + response.body()).isEqualTo(200);
    return path.equals("/healthz") ? null : json.readTree(response.body());
  }

  private static int freePort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  @Test
  void statusAndVerifyWhileTheProbeKeepsWriting() throws Exception {
    try (LoopbackValkey valkey = LoopbackValkey.withUsers(AclUsers.random())) {
      ValkeyProcess server = valkey.startServer("standalone", valkey.newHost(), List.of());
      int port = freePort();
      StringWriter out = new StringWriter();
      CommandLine cli =
          Main.commandLine(
              Map.of(
                  "VALKEY_HOST", server.host(),
                  "VALKEY_PORT", "" + server.port(),
                  "VALKEY_PASSWORD", valkey.users().orElseThrow().clientPassword()));
      cli.setOut(new PrintWriter(out, true));
      CompletableFuture<Integer> probe =
          CompletableFuture.supplyAsync(
              () ->
                  cli.execute(
                      "probe",
                      "--interval",
                      "10ms",
                      "--max-writes",
                      "1500",
                      "--run-id",
                      "checkpoints",
                      "--http-port",
                      "" + port,
                      "--json"));

      await("the probe serves its checkpoints")
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptions()
          .until(() -> get(port, "/status").get("ackedWrites").asLong() >= 50);
      get(port, "/healthz");

      JsonNode status = get(port, "/status");
      assertThat(status.get("verified").asBoolean()).isFalse();
      assertThat(status.get("unverifiedAckedWrites").asLong())
          .isEqualTo(status.get("ackedWrites").asLong());
      assertThat(status.get("verificationError").asText()).contains("not read back");
      assertThat(status.get("mode").asText()).isEqualTo("standalone");
      assertThat(status.has("cluster")).as("no cluster part standalone").isFalse();

      JsonNode verified = get(port, "/verify");
      assertThat(verified.get("verified").asBoolean()).isTrue();
      assertThat(verified.get("missingAckedWrites").asLong()).isZero();
      assertThat(verified.get("ackedWrites").asLong())
          .isGreaterThanOrEqualTo(status.get("ackedWrites").asLong());

      // A write acknowledged earlier disappears: the next checkpoint must say so.
      valkey.call(server, c -> c.del("probe:{checkpoints}:7"));
      JsonNode lost = get(port, "/verify");
      assertThat(lost.get("missingAckedWrites").asLong()).isEqualTo(1);
      assertThat(lost.get("missingIds").get(0).asLong()).isEqualTo(7);
      assertThat(lost.get("ackedWrites").asLong())
          .as("the probe kept writing between checkpoints")
          .isGreaterThan(verified.get("ackedWrites").asLong());
      assertThat(probe).as("still running at the last checkpoint").isNotDone();

      int exit = probe.get(60, TimeUnit.SECONDS);
      JsonNode last = json.readTree(out.toString());
      assertThat(exit).as("a lost write ends the run with exit 1").isEqualTo(1);
      assertThat(last.get("totalWrites").asLong()).isEqualTo(1500);
      assertThat(last.get("missingIds").get(0).asLong()).isEqualTo(7);
    }
  }
}
