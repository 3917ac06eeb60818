package io.valkeyk8s.testserver.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.valkeyk8s.testserver.Connector;
import io.valkeyk8s.testserver.TlsSettings;
import io.valkeyk8s.testserver.ValkeyConnection;
import io.valkeyk8s.testserver.ValkeyTarget;
import io.valkeyk8s.testserver.http.HttpApi;
import io.valkeyk8s.testserver.probe.ProbeOptions;
import io.valkeyk8s.testserver.probe.ProbeSession;
import io.valkeyk8s.testsupport.AclUsers;
import io.valkeyk8s.testsupport.LoopbackCluster;
import io.valkeyk8s.testsupport.LoopbackValkey;
import io.valkeyk8s.testsupport.ValkeyProcess;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code serve --cluster --probe}: the HTTP API and the background probe on a real cluster. */
class ServeClusterIT {
  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<String> send(int port, String method, String path, String body)
      throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body))
            .timeout(Duration.ofSeconds(30))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void keysOfEverySlotAreWrittenAndTheProbeReportsPerShard() throws Exception {
    try (LoopbackValkey valkey = LoopbackValkey.withUsers(AclUsers.random())) {
      LoopbackCluster cluster = LoopbackCluster.start(valkey, 3, 0, host -> List.of());
      ValkeyProcess seed = cluster.primaries().getFirst();
      Connector connector =
          new Connector(
              new ValkeyTarget(
                  seed.host(),
                  seed.port(),
                  "client",
                  valkey.users().orElseThrow().clientPassword()),
              TlsSettings.OFF,
              Duration.ofMillis(500),
              Duration.ofSeconds(1));
      try (ValkeyConnection connection = connector.open();
          ProbeSession probe =
              new ProbeSession(
                  connector,
                  new ProbeOptions(Duration.ofMillis(5), null, 200, Duration.ofMinutes(5)),
                  Duration.ofSeconds(10),
                  ProbeSession.newRunId());
          HttpApi api = new HttpApi(new InetSocketAddress("127.0.0.1", 0), connection, probe)) {
        api.start();
        probe.run();

        for (String key : List.of("a", "b", "c", "d", "e", "f")) {
          assertThat(send(api.port(), "PUT", "/kv/" + key, "value-" + key).statusCode())
              .isEqualTo(200);
        }
        HttpResponse<String> read = send(api.port(), "GET", "/kv/e", null);
        HttpResponse<String> check = send(api.port(), "POST", "/check", null);
        JsonNode report =
            new ObjectMapper().readTree(send(api.port(), "GET", "/verify", null).body());

        assertThat(read.body()).contains("\"value\":\"value-e\"");
        assertThat(check.statusCode()).as(check.body()).isEqualTo(200);
        assertThat(report.get("mode").asText()).isEqualTo("cluster");
        assertThat(report.get("ackedWrites").asLong()).isEqualTo(200);
        assertThat(report.get("missingAckedWrites").asLong()).isZero();
        assertThat(report.at("/cluster/shards")).hasSize(3);
        long keysOnPrimaries = 0;
        for (ValkeyProcess primary : cluster.primaries()) {
          Long keys = valkey.call(primary, c -> c.dbsize());
          assertThat(keys).as("every primary got writes").isPositive();
          keysOnPrimaries += keys;
        }
        assertThat(keysOnPrimaries).isGreaterThanOrEqualTo(206);
      }
    }
  }
}
