package io.valkeyk8s.testserver.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.valkeyk8s.testserver.ResilientConnection;
import io.valkeyk8s.testserver.ValkeyTarget;
import io.valkeyk8s.testserver.probe.ProbeOptions;
import io.valkeyk8s.testserver.probe.ProbeSession;
import io.valkeyk8s.testsupport.AclUsers;
import io.valkeyk8s.testsupport.LoopbackValkey;
import io.valkeyk8s.testsupport.ValkeyProcess;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP API against a real valkey-server with the chart's ACL users. */
class ServeIT {
  private static final Duration TIMEOUT = Duration.ofMillis(500);
  private final HttpClient http = HttpClient.newHttpClient();
  private final ObjectMapper json = new ObjectMapper();

  @TempDir Path dir;
  private LoopbackValkey valkey;
  private ValkeyProcess server;
  private ResilientConnection connection;
  private HttpApi api;

  @BeforeEach
  void start() throws Exception {
    valkey = LoopbackValkey.withUsers(AclUsers.random());
    server = valkey.startServer("standalone", valkey.newHost(), List.of());
  }

  @AfterEach
  void stop() {
    if (api != null) {
      api.close();
    }
    if (connection != null) {
      connection.close();
    }
    valkey.close();
  }

  private void serve(String password, ProbeSession probe) throws Exception {
    connection =
        new ResilientConnection(
            new ValkeyTarget(server.host(), server.port(), "client", password), TIMEOUT);
    api = new HttpApi(new InetSocketAddress("127.0.0.1", 0), connection, probe);
    api.start();
  }

  private HttpResponse<String> send(String method, String path, String body) throws Exception {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port() + path))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body))
            .timeout(Duration.ofSeconds(10))
            .build();
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void writesAndReadsAKeyThroughTheClientUser() throws Exception {
    serve(valkey.users().orElseThrow().clientPassword(), null);

    assertThat(send("GET", "/healthz", null).statusCode()).isEqualTo(200);
    assertThat(send("PUT", "/kv/greeting", "hello").statusCode()).isEqualTo(200);
    HttpResponse<String> read = send("GET", "/kv/greeting", null);
    assertThat(read.statusCode()).isEqualTo(200);
    assertThat(json.readTree(read.body()).get("value").asText()).isEqualTo("hello");
    String stored = valkey.call(server, c -> c.get("greeting"));
    assertThat(stored).isEqualTo("hello");
    assertThat(send("GET", "/kv/absent", null).statusCode()).isEqualTo(404);
    assertThat(send("DELETE", "/kv/greeting", null).statusCode()).isEqualTo(405);
    HttpResponse<String> check = send("POST", "/check", null);
    assertThat(check.statusCode()).isEqualTo(200);
    assertThat(json.readTree(check.body()).get("ok").asBoolean()).isTrue();
    assertThat(send("GET", "/report", null).statusCode()).isEqualTo(404);
  }

  @Test
  void aWrongPasswordIsReportedAsAuthFailure() throws Exception {
    serve("not-the-password", null);

    HttpResponse<String> check = send("POST", "/check", null);

    assertThat(check.statusCode()).isEqualTo(503);
    assertThat(json.readTree(check.body()).get("error").asText()).isEqualTo("auth");
    assertThat(send("GET", "/healthz", null).statusCode()).isEqualTo(200);
  }

  @Test
  void writesFailWhileValkeyIsDownAndSucceedAgainAfterItRestarts() throws Exception {
    serve(valkey.users().orElseThrow().clientPassword(), null);
    assertThat(send("POST", "/check", null).statusCode()).isEqualTo(200);

    server.kill();
    HttpResponse<String> down = send("POST", "/check", null);
    assertThat(down.statusCode()).isEqualTo(503);
    assertThat(json.readTree(down.body()).get("error").asText()).isEqualTo("connection");

    server.start();
    await("writes succeed again")
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> send("POST", "/check", null).statusCode() == 200);
  }

  @Test
  void reportOfTheBackgroundProbe() throws Exception {
    try (ProbeSession probe =
        new ProbeSession(
            new ValkeyTarget(
                server.host(),
                server.port(),
                "client",
                valkey.users().orElseThrow().clientPassword()),
            TIMEOUT,
            new ProbeOptions(Duration.ofMillis(10), null, 1_000_000, Duration.ofMinutes(5)),
            Duration.ofSeconds(10),
            ProbeSession.newRunId())) {
      serve(valkey.users().orElseThrow().clientPassword(), probe);
      Thread writer = Thread.ofPlatform().name("probe").start(probe::run);
      try {
        await().atMost(Duration.ofSeconds(20)).until(() -> probe.attempts().size() >= 20);

        HttpResponse<String> response = send("GET", "/report", null);

        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode report = json.readTree(response.body());
        assertThat(report.get("ackedWrites").asLong()).isGreaterThanOrEqualTo(20);
        assertThat(report.get("missingAckedWrites").asLong()).isZero();
        assertThat(report.get("verified").asBoolean()).isTrue();
        assertThat(report.get("windows").isArray()).isTrue();
      } finally {
        probe.stop();
        writer.join(Duration.ofSeconds(10));
      }
    }
  }
}
