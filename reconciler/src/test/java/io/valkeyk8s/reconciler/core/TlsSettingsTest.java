package io.valkeyk8s.reconciler.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.valkeyk8s.testsupport.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** VALKEY_TLS* and the password files: read, checked at start, one line naming the variable. */
class TlsSettingsTest {
  @TempDir static Path dir;
  static TestCertificates certs;
  static Path[] client;

  @BeforeAll
  static void certificates() throws Exception {
    certs = TestCertificates.create(dir.resolve("ca"));
    client = certs.client("reconciler"); // RSA in PKCS#1, as cert-manager writes it
  }

  private static Config config(Map<String, String> env) {
    return Config.fromEnv(env);
  }

  private static Map<String, String> tls(String... pairs) {
    Map<String, String> env = new HashMap<>(Map.of("VALKEY_TLS", "true"));
    for (int i = 0; i < pairs.length; i += 2) {
      env.put(pairs[i], pairs[i + 1]);
    }
    return env;
  }

  @Test
  void offByDefault() {
    TlsSettings t = config(Map.of()).tls();
    assertThat(t.enabled()).isFalse();
    assertThat(t.clusterDomain()).isEqualTo("cluster.local");
    assertThat(config(Map.of()).toString()).contains("tls=off");
  }

  @Test
  void readsTheCaAndAPkcs1ClientCertificate() {
    TlsSettings t =
        config(
                tls(
                    "VALKEY_TLS_CA_FILE", certs.caFile().toString(),
                    "VALKEY_TLS_CERT_FILE", client[0].toString(),
                    "VALKEY_TLS_KEY_FILE", client[1].toString(),
                    "CLUSTER_DOMAIN", "k8s.example"))
            .tls();
    assertThat(t.enabled()).isTrue();
    assertThat(t.caFile()).contains(certs.caFile());
    assertThat(t.certFile()).contains(client[0]);
    assertThat(t.insecureSkipVerify()).isFalse();
    assertThat(t.clusterDomain()).isEqualTo("k8s.example");
    assertThat(t.toString()).contains("verify=full");
  }

  @Test
  void skippingVerificationIsAnExplicitSettingAndSaysSo() {
    TlsSettings t = config(tls("VALKEY_TLS_INSECURE_SKIP_VERIFY", "true")).tls();
    assertThat(t.insecureSkipVerify()).isTrue();
    assertThat(t.toString()).contains("verify=SKIPPED");
  }

  @Test
  void badTlsSettingsFailWithOneLineNamingTheVariable() throws Exception {
    Path notPem = Files.writeString(dir.resolve("not.pem"), "hello\n");
    assertThatThrownBy(() -> config(Map.of("VALKEY_TLS", "yes")))
        .hasMessage("VALKEY_TLS: 'yes' is not true or false");
    assertThatThrownBy(() -> config(Map.of("VALKEY_TLS_CA_FILE", certs.caFile().toString())))
        .hasMessage("VALKEY_TLS_CA_FILE: is set but VALKEY_TLS is not true");
    assertThatThrownBy(() -> config(Map.of("VALKEY_TLS_INSECURE_SKIP_VERIFY", "true")))
        .hasMessage("VALKEY_TLS_INSECURE_SKIP_VERIFY: is true but VALKEY_TLS is not true");
    assertThatThrownBy(() -> config(tls("VALKEY_TLS_CA_FILE", "/nonexistent/ca.crt")))
        .hasMessage("VALKEY_TLS_CA_FILE: cannot read /nonexistent/ca.crt (no such file)");
    assertThatThrownBy(() -> config(tls("VALKEY_TLS_CA_FILE", notPem.toString())))
        .hasMessageStartingWith("VALKEY_TLS_CA_FILE: " + notPem + " holds no PEM certificate");
    assertThatThrownBy(() -> config(tls("VALKEY_TLS_CERT_FILE", client[0].toString())))
        .hasMessage(
            "VALKEY_TLS_CERT_FILE: is set without VALKEY_TLS_KEY_FILE: a client certificate needs both");
    assertThatThrownBy(
            () ->
                config(
                    tls(
                        "VALKEY_TLS_CERT_FILE", client[0].toString(),
                        "VALKEY_TLS_KEY_FILE", notPem.toString())))
        .hasMessageStartingWith("VALKEY_TLS_KEY_FILE: cannot load the private key in " + notPem);
    assertThatThrownBy(
            () ->
                config(
                    tls(
                        "VALKEY_TLS_CA_FILE",
                        certs.caFile().toString(),
                        "VALKEY_TLS_INSECURE_SKIP_VERIFY",
                        "true")))
        .hasMessageStartingWith("VALKEY_TLS_INSECURE_SKIP_VERIFY: is true and VALKEY_TLS_CA_FILE");
    assertThatThrownBy(() -> config(Map.of("CLUSTER_DOMAIN", "Bad_Domain")))
        .hasMessage("CLUSTER_DOMAIN: 'Bad_Domain' is not a DNS domain");
  }

  @Test
  void aPasswordFileIsReadAgainAtEveryUse() throws Exception {
    Path file = Files.writeString(dir.resolve("admin"), "first\n");
    Config c = config(Map.of("VALKEY_PASSWORD_FILE", file.toString()));
    assertThat(c.valkeyPassword().current()).contains("first");
    Files.writeString(file, "second");
    assertThat(c.valkeyPassword().current()).contains("second");
    assertThat(c.toString()).doesNotContain("first").doesNotContain("second");
    Config.Sentinel s =
        Config.Sentinel.fromEnv(
            Map.of("VALKEY_SENTINEL_HOST", "s", "VALKEY_SENTINEL_PASSWORD_FILE", file.toString()));
    assertThat(s.sentinelPassword().current()).contains("second");
  }

  @Test
  void badPasswordFilesFailWithOneLine() throws Exception {
    Path file = Files.writeString(dir.resolve("pw"), "x");
    Path empty = Files.writeString(dir.resolve("empty"), "\n");
    assertThatThrownBy(
            () -> config(Map.of("VALKEY_PASSWORD_FILE", file.toString(), "VALKEY_PASSWORD", "y")))
        .hasMessage(
            "VALKEY_PASSWORD_FILE: is set together with VALKEY_PASSWORD: set one of them, not both");
    assertThatThrownBy(() -> config(Map.of("VALKEY_PASSWORD_FILE", empty.toString())))
        .hasMessage("VALKEY_PASSWORD_FILE: " + empty + " is empty");
    assertThatThrownBy(() -> config(Map.of("VALKEY_PASSWORD_FILE", dir.toString())))
        .hasMessage("VALKEY_PASSWORD_FILE: cannot read " + dir + " (not a file)");
  }
}
