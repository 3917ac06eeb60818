package io.valkeyk8s.testserver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisURI;
import io.lettuce.core.SslVerifyMode;
import io.valkeyk8s.testsupport.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** VALKEY_TLS*: defaults, every contradiction and unusable file is one line naming the variable. */
class TlsSettingsTest {
  @TempDir static Path dir;
  private static TestCertificates certs;
  private static Path[] client;

  @BeforeAll
  static void certificates() throws Exception {
    certs = TestCertificates.create(dir.resolve("certs"));
    client = certs.client("client");
  }

  private static Map<String, String> env(String... pairs) {
    Map<String, String> env = new HashMap<>();
    for (int i = 0; i < pairs.length; i += 2) {
      env.put(pairs[i], pairs[i + 1]);
    }
    return env;
  }

  private static String error(Map<String, String> env) {
    return assertThatThrownBy(() -> TlsSettings.fromEnv(env))
        .isInstanceOf(IllegalArgumentException.class)
        .actual()
        .getMessage();
  }

  @Test
  void offUnlessAskedFor() {
    assertThat(TlsSettings.fromEnv(Map.of())).isEqualTo(TlsSettings.OFF);
    assertThat(TlsSettings.fromEnv(env("VALKEY_TLS", "false", "VALKEY_TLS_CA_FILE", " ")))
        .isEqualTo(TlsSettings.OFF);
    RedisURI.Builder uri = RedisURI.builder().withHost("valkey");
    assertThat(TlsSettings.OFF.applyTo(uri).build().isSsl()).isFalse();
    assertThat(TlsSettings.OFF.sslOptions(java.time.Duration.ofSeconds(1))).isNull();
  }

  @Test
  void flagsAreTrueOrFalse() {
    assertThat(error(env("VALKEY_TLS", "yes")))
        .isEqualTo("VALKEY_TLS must be true or false, got: yes");
    assertThat(error(env("VALKEY_TLS", "true", "VALKEY_TLS_INSECURE_SKIP_VERIFY", "1")))
        .isEqualTo("VALKEY_TLS_INSECURE_SKIP_VERIFY must be true or false, got: 1");
    assertThat(TlsSettings.fromEnv(env("VALKEY_TLS", "TRUE")).enabled()).isTrue();
  }

  @Test
  void tlsOptionsWithoutTlsAreRefused() {
    assertThat(error(env("VALKEY_TLS_CA_FILE", certs.caFile().toString())))
        .isEqualTo(
            "VALKEY_TLS_CA_FILE is set but VALKEY_TLS is not true: set VALKEY_TLS=true to use TLS");
    assertThat(error(env("VALKEY_TLS", "false", "VALKEY_TLS_KEY_FILE", "/k")))
        .startsWith("VALKEY_TLS_KEY_FILE is set but VALKEY_TLS is not true");
    assertThat(error(env("VALKEY_TLS_INSECURE_SKIP_VERIFY", "true")))
        .startsWith("VALKEY_TLS_INSECURE_SKIP_VERIFY=true but VALKEY_TLS is not true");
  }

  @Test
  void filesMustExistAndBeFiles() {
    assertThat(error(env("VALKEY_TLS", "true", "VALKEY_TLS_CA_FILE", "/nonexistent/ca.crt")))
        .isEqualTo("VALKEY_TLS_CA_FILE: cannot read /nonexistent/ca.crt (no such file)");
    assertThat(error(env("VALKEY_TLS", "true", "VALKEY_TLS_CERT_FILE", dir.toString())))
        .isEqualTo("VALKEY_TLS_CERT_FILE: cannot read " + dir + " (not a file)");
  }

  @Test
  void aClientCertificateNeedsCertAndKey() {
    assertThat(error(env("VALKEY_TLS", "true", "VALKEY_TLS_KEY_FILE", client[1].toString())))
        .isEqualTo(
            "VALKEY_TLS_KEY_FILE is set without VALKEY_TLS_CERT_FILE: a client certificate needs"
                + " both");
    assertThat(error(env("VALKEY_TLS", "true", "VALKEY_TLS_CERT_FILE", client[0].toString())))
        .isEqualTo(
            "VALKEY_TLS_CERT_FILE is set without VALKEY_TLS_KEY_FILE: a client certificate needs"
                + " both");
  }

  @Test
  void skippingVerificationAndACaContradictEachOther() {
    assertThat(
            error(
                env(
                    "VALKEY_TLS", "true",
                    "VALKEY_TLS_CA_FILE", certs.caFile().toString(),
                    "VALKEY_TLS_INSECURE_SKIP_VERIFY", "true")))
        .isEqualTo(
            "VALKEY_TLS_INSECURE_SKIP_VERIFY=true and VALKEY_TLS_CA_FILE contradict each other:"
                + " verify against the CA or skip verification, not both");
  }

  @Test
  void filesThatAreNoPemAreNamed() throws Exception {
    Path garbage = Files.writeString(dir.resolve("garbage.pem"), "not a certificate\n");
    assertThat(error(env("VALKEY_TLS", "true", "VALKEY_TLS_CA_FILE", garbage.toString())))
        .startsWith("VALKEY_TLS_CA_FILE: " + garbage + " holds no PEM certificate");
    assertThat(
            error(
                env(
                    "VALKEY_TLS", "true",
                    "VALKEY_TLS_CERT_FILE", client[0].toString(),
                    "VALKEY_TLS_KEY_FILE", garbage.toString())))
        .startsWith("VALKEY_TLS_KEY_FILE: cannot load the private key in " + garbage);
    // A certificate where the key belongs is no key either.
    assertThat(
            error(
                env(
                    "VALKEY_TLS", "true",
                    "VALKEY_TLS_CERT_FILE", client[0].toString(),
                    "VALKEY_TLS_KEY_FILE", client[0].toString())))
        .startsWith("VALKEY_TLS_KEY_FILE: cannot load the private key");
  }

  @Test
  void aCaAndAPkcs1ClientKeyLoadAndVerifyTheHostname() {
    TlsSettings tls =
        TlsSettings.fromEnv(
            env(
                "VALKEY_TLS", "true",
                "VALKEY_TLS_CA_FILE", certs.caFile().toString(),
                "VALKEY_TLS_CERT_FILE", client[0].toString(),
                "VALKEY_TLS_KEY_FILE", client[1].toString()));

    RedisURI uri = tls.applyTo(RedisURI.builder().withHost("valkey")).build();

    assertThat(tls).isEqualTo(new TlsSettings(true, certs.caFile(), client[0], client[1], false));
    assertThat(uri.isSsl()).isTrue();
    assertThat(uri.getVerifyMode()).isEqualTo(SslVerifyMode.FULL);
  }

  @Test
  void skippingVerificationIsAnExplicitOptIn() {
    TlsSettings tls =
        TlsSettings.fromEnv(env("VALKEY_TLS", "true", "VALKEY_TLS_INSECURE_SKIP_VERIFY", "true"));

    assertThat(tls.applyTo(RedisURI.builder().withHost("valkey")).build().getVerifyMode())
        .isEqualTo(SslVerifyMode.NONE);
    assertThat(TlsSettings.fromEnv(env("VALKEY_TLS", "true")).insecureSkipVerify()).isFalse();
  }
}
