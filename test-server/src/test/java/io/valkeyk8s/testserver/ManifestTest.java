package io.valkeyk8s.testserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;

/** k8s/test-server.yaml: restricted Pod Security, and env the server actually reads. */
class ManifestTest {
  private static final Path MANIFEST = Path.of("k8s/test-server.yaml");

  private static List<JsonNode> documents() throws IOException {
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    try (YAMLParser parser = new YAMLFactory().createParser(MANIFEST.toFile())) {
      List<JsonNode> docs = new ArrayList<>();
      yaml.readValues(parser, JsonNode.class).forEachRemaining(docs::add);
      return docs;
    }
  }

  private static JsonNode deployment() throws IOException {
    return documents().stream()
        .filter(d -> d.path("kind").asText().equals("Deployment"))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void podMeetsTheRestrictedPodSecurityStandard() throws IOException {
    JsonNode pod = deployment().at("/spec/template/spec");
    JsonNode podSecurity = pod.get("securityContext");
    assertThat(podSecurity.get("runAsNonRoot").asBoolean()).isTrue();
    assertThat(podSecurity.get("runAsUser").asInt()).isEqualTo(65532);
    assertThat(podSecurity.at("/seccompProfile/type").asText()).isEqualTo("RuntimeDefault");
    assertThat(pod.path("hostNetwork").asBoolean(false)).isFalse();
    for (JsonNode container : pod.get("containers")) {
      JsonNode security = container.get("securityContext");
      assertThat(security.get("allowPrivilegeEscalation").asBoolean()).isFalse();
      assertThat(security.get("readOnlyRootFilesystem").asBoolean()).isTrue();
      assertThat(security.at("/capabilities/drop"))
          .extracting(JsonNode::asText)
          .containsExactly("ALL");
      assertThat(security.has("privileged")).isFalse();
      assertThat(security.at("/capabilities/add").isMissingNode()).isTrue();
    }
  }

  @Test
  void passwordComesFromTheChartSecretAndEnvMatchesWhatTheServerReads() throws IOException {
    JsonNode container = deployment().at("/spec/template/spec/containers/0");
    List<String> names =
        StreamSupport.stream(container.get("env").spliterator(), false)
            .map(e -> e.get("name").asText())
            .toList();
    assertThat(names)
        .contains("VALKEY_HOST", "VALKEY_PORT", "VALKEY_USERNAME", "VALKEY_PASSWORD", "HTTP_PORT");
    JsonNode password =
        StreamSupport.stream(container.get("env").spliterator(), false)
            .filter(e -> e.get("name").asText().equals("VALKEY_PASSWORD"))
            .findFirst()
            .orElseThrow();
    assertThat(password.at("/valueFrom/secretKeyRef/name").asText())
        .isEqualTo("valkey-credentials");
    assertThat(password.at("/valueFrom/secretKeyRef/key").asText()).isEqualTo("clientPassword");
    assertThat(password.has("value")).isFalse();

    ValkeyTarget target =
        ValkeyTarget.fromEnv(
            java.util.Map.of(
                "VALKEY_HOST", envValue(container, "VALKEY_HOST"),
                "VALKEY_PORT", envValue(container, "VALKEY_PORT"),
                "VALKEY_USERNAME", envValue(container, "VALKEY_USERNAME"),
                "VALKEY_PASSWORD", "from-the-secret"));
    assertThat(target.address()).isEqualTo("valkey:6379");
    assertThat(target.username()).isEqualTo("client");
  }

  @Test
  void argumentsParseAndProbesUseTheHttpPort() throws IOException {
    JsonNode container = deployment().at("/spec/template/spec/containers/0");
    List<String> args =
        StreamSupport.stream(container.get("args").spliterator(), false)
            .map(JsonNode::asText)
            .toList();
    picocli.CommandLine cli = Main.commandLine(java.util.Map.of());
    assertThat(cli.parseArgs(args.toArray(String[]::new)).subcommand().commandSpec().name())
        .isEqualTo("serve");
    assertThat(container.at("/readinessProbe/httpGet/path").asText()).isEqualTo("/healthz");
    assertThat(container.at("/ports/0/containerPort").asInt()).isEqualTo(8080);
    JsonNode service =
        documents().stream()
            .filter(d -> d.path("kind").asText().equals("Service"))
            .findFirst()
            .orElseThrow();
    assertThat(service.at("/spec/selector"))
        .isEqualTo(deployment().at("/spec/selector/matchLabels"));
  }

  private static String envValue(JsonNode container, String name) {
    return StreamSupport.stream(container.get("env").spliterator(), false)
        .filter(e -> e.get("name").asText().equals(name))
        .findFirst()
        .orElseThrow()
        .get("value")
        .asText();
  }

  @Test
  void theTlsPatchSetsTheVariablesTheServerReadsAndMountsTheirFiles() throws IOException {
    ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
    JsonNode patch = yaml.readTree(Path.of("k8s/test-server-tls.patch.yaml").toFile());
    JsonNode container = patch.at("/spec/template/spec/containers/0");
    assertThat(container.get("name").asText())
        .as("strategic merge matches containers by name")
        .isEqualTo(deployment().at("/spec/template/spec/containers/0/name").asText());
    java.util.Map<String, String> env = new java.util.LinkedHashMap<>();
    container.get("env").forEach(e -> env.put(e.get("name").asText(), e.get("value").asText()));
    assertThat(env.keySet())
        .containsExactly(
            "VALKEY_TLS", "VALKEY_TLS_CA_FILE", "VALKEY_TLS_CERT_FILE", "VALKEY_TLS_KEY_FILE");
    String mount = container.at("/volumeMounts/0/mountPath").asText();
    assertThat(env.values().stream().skip(1)).allMatch(file -> file.startsWith(mount + "/"));
    assertThat(container.at("/volumeMounts/0/name").asText())
        .isEqualTo(patch.at("/spec/template/spec/volumes/0/name").asText());
    // Valid as far as it goes without the files: the only complaint is the missing CA file.
    assertThatThrownBy(() -> TlsSettings.fromEnv(env))
        .hasMessage("VALKEY_TLS_CA_FILE: cannot read /etc/valkey-tls/ca.crt (no such file)");
  }
}
