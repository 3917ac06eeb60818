package io.valkeyk8s.reconciler.sentinel;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.valkeyk8s.reconciler.core.Config;
import io.valkeyk8s.reconciler.kube.Controller;
import io.valkeyk8s.reconciler.testing.TestPods;
import io.valkeyk8s.testsupport.KubeApiServer;
import io.valkeyk8s.testsupport.KubeApiServerExtension;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Without a Sentinel to ask: not ready, no label written, and the process keeps retrying. */
@ExtendWith(KubeApiServerExtension.class)
class SentinelUnreachableIT {
  private final KubeApiServer api;

  SentinelUnreachableIT(KubeApiServer api) {
    this.api = api;
  }

  @Test
  void staysUnreadyAndWritesNoLabelWhileNoSentinelAnswers() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    try (KubernetesClient client = api.newClient();
        KubernetesClient own = api.newClient()) {
      TestPods pods = TestPods.inNewNamespace(client, "unreachable");
      pods.create("valkey-0", "127.0.0.1");
      Map<String, String> env = new HashMap<>();
      env.put("POD_NAMESPACE", pods.namespace());
      env.put("VALKEY_SENTINEL_HOST", "127.0.0.1");
      env.put("VALKEY_SENTINEL_PORT", String.valueOf(closedPort));
      env.put("HTTP_PORT", "0");
      env.put("LEASE_NAME", "");
      try (Controller mode =
          SentinelCommand.controller(Config.fromEnv(env), Config.Sentinel.fromEnv(env), own)) {
        mode.start();
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + mode.httpPort();
        // Alive (the loop runs and retries) but not ready; checked for a while, not once.
        Awaitility.await()
            .during(Duration.ofSeconds(3))
            .atMost(Duration.ofSeconds(10))
            .until(
                () ->
                    status(http, base + "/healthz") == 200
                        && status(http, base + "/readyz") == 503
                        && pods.get("valkey-0").getMetadata().getLabels().get("valkey-master")
                            == null);
        assertThat(get(http, base + "/metrics"))
            .contains("valkey_reconciler_sentinels_connected 0.0");
      }
    }
  }

  private static int status(HttpClient http, String url) throws Exception {
    return http.send(
            HttpRequest.newBuilder(java.net.URI.create(url)).build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  private static String get(HttpClient http, String url) throws Exception {
    return http.send(
            HttpRequest.newBuilder(java.net.URI.create(url)).build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }
}
