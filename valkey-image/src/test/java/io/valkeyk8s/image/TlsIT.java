package io.valkeyk8s.image;

import static io.valkeyk8s.image.ValkeyContainers.ADMIN_PASSWORD;
import static io.valkeyk8s.image.ValkeyContainers.SENTINEL_PASSWORD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Volume;
import io.valkeyk8s.testsupport.TestCertificates;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.output.OutputFrame;

/**
 * The image with TLS on, as the chart runs it (tls.enabled, authClients yes): a Sentinel-mode set
 * on a Docker network, one container per pod role, the certificates of one kubernetes.io/tls Secret
 * (made by the test) mounted at /etc/valkey/tls. The entrypoint's own valkey-cli calls (finding the
 * primary through the Sentinels, the probes, prestop) speak TLS; the plaintext ports are closed; a
 * renewed certificate is served without a restart.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TlsIT {

  private static final String PEERS = "valkey-0 valkey-1 sentinel-0 sentinel-1 sentinel-2";
  private static final Duration PATIENCE = Duration.ofSeconds(60);
  private static final List<String> NAMES =
      List.of("valkey-0", "valkey-1", "sentinel-0", "sentinel-1", "sentinel-2", "localhost");
  private static final List<String> TLS =
      List.of(
          "--tls",
          "--cacert",
          "/etc/valkey/tls/ca.crt",
          "--cert",
          "/etc/valkey/tls/tls.crt",
          "--key",
          "/etc/valkey/tls/tls.key");

  @TempDir static Path tmp;
  private static Path secret;
  private static TestCertificates ca;
  private static Network network;
  private static GenericContainer<?> primary;
  private static GenericContainer<?> replica;
  private static final List<GenericContainer<?>> sentinels = new ArrayList<>();
  private static final StringBuffer replicaLog = new StringBuffer();

  /** A CA and the Secret's three files (tls.crt, tls.key, ca.crt), readable by uid 999. */
  @BeforeAll
  static void startPrimaryAndSentinels() throws Exception {
    ca = TestCertificates.create(tmp.resolve("ca"));
    secret = Files.createDirectories(tmp.resolve("secret"));
    ca.serverInto(secret.resolve("tls.crt"), secret.resolve("tls.key"), "valkey", NAMES);
    Files.copy(ca.caFile(), secret.resolve("ca.crt"));
    readableByTheContainer();

    network = Network.newNetwork();
    primary = pod("valkey", "valkey-0");
    primary.start();
    for (int i = 0; i < 3; i++) {
      GenericContainer<?> sentinel = pod("sentinel", "sentinel-" + i);
      sentinels.add(sentinel);
      sentinel.start();
    }
    for (GenericContainer<?> sentinel : sentinels) {
      await()
          .atMost(PATIENCE)
          .untilAsserted(
              () ->
                  assertThat(
                          sentinelSays(
                              sentinel, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "myprimary"))
                      .startsWith("valkey-0\n6379"));
    }
  }

  @AfterAll
  static void stopAll() {
    sentinels.forEach(GenericContainer::stop);
    if (replica != null) {
      replica.stop();
    }
    if (primary != null) {
      primary.stop();
    }
    if (network != null) {
      network.close();
    }
  }

  @Test
  @Order(1)
  void aNewPodFindsThePrimaryThroughTlsSentinelsAndReplicatesOverTls() throws Exception {
    replica =
        pod("valkey", "valkey-1")
            .withLogConsumer((OutputFrame frame) -> replicaLog.append(frame.getUtf8String()));
    replica.start();

    assertThat(replicaLog)
        .contains("Sentinels name valkey-0:6379 as primary; starting as its replica");
    await()
        .atMost(PATIENCE)
        .untilAsserted(
            () ->
                assertThat(valkeySays(replica, "INFO", "replication"))
                    .contains("role:slave", "master_host:valkey-0", "master_link_status:up"));
    assertThat(valkeySays(primary, "SET", "replicated", "over-tls")).isEqualTo("OK");
    await()
        .atMost(PATIENCE)
        .untilAsserted(
            () -> assertThat(valkeySays(replica, "GET", "replicated")).isEqualTo("over-tls"));
    assertThat(valkeySays(primary, "CONFIG", "GET", "tls-replication")).endsWith("yes");
  }

  @Test
  @Order(2)
  void theProbesSpeakTls() throws Exception {
    assertThat(primary.execInContainer("valkey-entrypoint", "ready").getExitCode()).isZero();
    await()
        .atMost(PATIENCE)
        .untilAsserted(
            () ->
                assertThat(replica.execInContainer("valkey-entrypoint", "ready").getExitCode())
                    .isZero());
    assertThat(primary.execInContainer("valkey-entrypoint", "alive").getExitCode()).isZero();
    GenericContainer<?> sentinel = sentinels.get(0);
    assertThat(sentinel.execInContainer("valkey-entrypoint", "sentinel-ready").getExitCode())
        .isZero();
    assertThat(sentinel.execInContainer("valkey-entrypoint", "alive", "sentinel").getExitCode())
        .isZero();
  }

  @Test
  @Order(3)
  void plaintextAndCertificateLessClientsAreRefused() throws Exception {
    for (int port : List.of(ValkeyContainers.VALKEY_PORT, ValkeyContainers.SENTINEL_PORT)) {
      GenericContainer<?> target =
          port == ValkeyContainers.VALKEY_PORT ? primary : sentinels.get(0);
      ExecResult plain =
          target.execInContainer("valkey-cli", "--no-auth-warning", "-p", "" + port, "PING");
      assertThat(plain.getStdout() + plain.getStderr())
          .as("plaintext to port %d", port)
          .doesNotContain("PONG")
          .containsAnyOf("Connection reset", "Error");
      // authClients yes: TLS without a client certificate fails the handshake.
      ExecResult noCert =
          target.execInContainer(
              "valkey-cli", "--tls", "--cacert", "/etc/valkey/tls/ca.crt", "-p", "" + port, "PING");
      assertThat(noCert.getStdout() + noCert.getStderr())
          .as("TLS without a client certificate to port %d", port)
          .doesNotContain("PONG");
    }
    assertThat(valkeySays(primary, "CONFIG", "GET", "port")).endsWith("\n0");
  }

  /**
   * The chart's exporter sidecar as the chart configures it with TLS on (rediss://, the Secret's
   * CA, the server's certificate as client certificate): it reads the server. Without the CA it
   * does not trust the server (no verification is skipped), so redis_up stays 0.
   */
  @Test
  @Order(4)
  void theMetricsExporterReadsTheServerOverTls() throws Exception {
    try (GenericContainer<?> exporter = exporter(true)) {
      exporter.start();
      await()
          .atMost(PATIENCE)
          .untilAsserted(
              () ->
                  assertThat(metrics(exporter))
                      .contains("redis_up 1")
                      .contains("redis_instance_info{")
                      .contains("role=\"master\""));
    }
    try (GenericContainer<?> exporter = exporter(false)) {
      exporter.start();
      await()
          .atMost(PATIENCE)
          .untilAsserted(() -> assertThat(metrics(exporter)).contains("redis_up 0"));
    }
  }

  @Test
  @Order(5)
  void aRenewedCertificateIsServedWithoutARestart() throws Exception {
    String runId = field(valkeySays(primary, "INFO", "server"), "run_id");
    BigInteger before = servedSerial(primary);
    ca.serverInto(secret.resolve("tls.crt"), secret.resolve("tls.key"), "valkey", NAMES);
    readableByTheContainer();
    BigInteger renewed = serialOf(secret.resolve("tls.crt"));
    assertThat(renewed).isNotEqualTo(before);
    long start = System.nanoTime();
    // tls-auto-reload-interval 15: new connections get the new certificate within about 15 s.
    await()
        .atMost(Duration.ofSeconds(45))
        .pollInterval(Duration.ofMillis(500))
        .untilAsserted(() -> assertThat(servedSerial(primary)).isEqualTo(renewed));
    System.out.printf(
        "renewed certificate served after %d ms%n", (System.nanoTime() - start) / 1_000_000);
    assertThat(field(valkeySays(primary, "INFO", "server"), "run_id")).isEqualTo(runId);
    assertThat(restarts(primary)).isZero();
    // Replication and the probes keep working with the renewed certificate.
    assertThat(valkeySays(primary, "SET", "after-renewal", "1")).isEqualTo("OK");
    await()
        .atMost(PATIENCE)
        .untilAsserted(
            () -> assertThat(valkeySays(replica, "GET", "after-renewal")).isEqualTo("1"));
    assertThat(primary.execInContainer("valkey-entrypoint", "ready").getExitCode()).isZero();
  }

  @Test
  @Order(6)
  void prestopHandsOverOverTls() throws Exception {
    ExecResult prestop = primary.execInContainer("valkey-entrypoint", "prestop");
    System.out.print(prestop.getStderr());
    assertThat(prestop.getExitCode()).isZero();
    await()
        .atMost(PATIENCE)
        .untilAsserted(
            () -> {
              assertThat(valkeySays(replica, "ROLE")).startsWith("master");
              assertThat(valkeySays(primary, "ROLE")).startsWith("slave");
            });
    assertThat(valkeySays(replica, "GET", "replicated")).isEqualTo("over-tls");
  }

  @Test
  @Order(7)
  void badTlsSettingsStopTheContainerWithOneLine() throws Exception {
    Map<String, String> env = new HashMap<>(ValkeyContainers.passwords());
    env.put("VALKEY_TLS", "yes");
    assertOneLine(
        ValkeyContainers.runToExit(env, List.of(), null, "valkey"),
        "VALKEY_TLS must be true or false, got 'yes'");
    env.put("VALKEY_TLS", "true");
    assertOneLine(
        ValkeyContainers.runToExit(env, List.of(), null, "valkey"),
        "VALKEY_TLS_CERT_FILE: cannot read /etc/valkey/tls/tls.crt (is the TLS Secret mounted?)");
    env.put("VALKEY_TLS_AUTH_CLIENTS", "required");
    assertOneLine(
        ValkeyContainers.runToExit(env, List.of(mount()), null, "valkey"),
        "VALKEY_TLS_AUTH_CLIENTS must be no, optional or yes, got 'required'");
  }

  private static void assertOneLine(ValkeyContainers.Exit exit, String message) {
    assertThat(exit.code()).as(exit.output()).isEqualTo(2);
    assertThat(exit.lines()).containsExactly("valkey-entrypoint: error: " + message);
  }

  /** The exporter image with the chart's TLS settings; {@code withCa} false leaves the CA out. */
  private static GenericContainer<?> exporter(boolean withCa) {
    GenericContainer<?> exporter =
        new GenericContainer<>(System.getProperty("exporter.image"))
            .withNetwork(network)
            .withExposedPorts(9121)
            .withEnv("REDIS_ADDR", "rediss://valkey-0:6379")
            .withEnv("REDIS_USER", "admin")
            .withEnv("REDIS_PASSWORD", ADMIN_PASSWORD)
            .withEnv("REDIS_EXPORTER_TLS_CLIENT_CERT_FILE", "/etc/valkey/tls/tls.crt")
            .withEnv("REDIS_EXPORTER_TLS_CLIENT_KEY_FILE", "/etc/valkey/tls/tls.key")
            .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withBinds(mount()));
    return withCa
        ? exporter.withEnv("REDIS_EXPORTER_TLS_CA_CERT_FILE", "/etc/valkey/tls/ca.crt")
        : exporter;
  }

  private static String metrics(GenericContainer<?> exporter) throws Exception {
    URI uri =
        URI.create(
            "http://" + exporter.getHost() + ":" + exporter.getMappedPort(9121) + "/metrics");
    try (HttpClient http = HttpClient.newHttpClient()) {
      return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString())
          .body();
    }
  }

  /** A container of one pod role with TLS on, reachable on the network by its pod name. */
  private static GenericContainer<?> pod(String role, String name) {
    Map<String, String> env = new HashMap<>(ValkeyContainers.passwords());
    env.put("VALKEY_SENTINEL_PASSWORD", SENTINEL_PASSWORD);
    env.put("VALKEY_MODE", "sentinel");
    env.put("VALKEY_PEERS", PEERS);
    env.put("POD_NAME", name);
    env.put("VALKEY_ANNOUNCE_HOSTNAME", name);
    env.put("VALKEY_TLS", "true");
    env.put("VALKEY_TLS_AUTH_CLIENTS", "yes");
    return ValkeyContainers.container(role, env, null)
        .withNetwork(network)
        .withNetworkAliases(name)
        .withCreateContainerCmdModifier(
            cmd -> {
              cmd.withHostName(name);
              cmd.getHostConfig().withReadonlyRootfs(true);
              cmd.getHostConfig().withBinds(mount());
            });
  }

  private static Bind mount() {
    return new Bind(secret.toString(), new Volume("/etc/valkey/tls"), AccessMode.ro);
  }

  /** Test files only: the container runs as uid 999, the temp directory belongs to root. */
  private static void readableByTheContainer() throws Exception {
    for (Path p = secret; p != null && p.startsWith(tmp.getParent()); p = p.getParent()) {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    try (var files = Files.list(secret)) {
      for (Path f : files.toList()) {
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
      }
    }
  }

  /**
   * The serial of the certificate a new TLS connection from the host gets (presenting the server's
   * own certificate, as the probes do: clients must authenticate).
   */
  private static BigInteger servedSerial(GenericContainer<?> container) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", certificate(secret.resolve("ca.crt")));
    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(trust);
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    keys.setKeyEntry(
        "client",
        pkcs8EcKey(secret.resolve("tls.key")),
        new char[0],
        new Certificate[] {certificate(secret.resolve("tls.crt"))});
    KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
    kmf.init(keys, new char[0]);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    try (SSLSocket socket =
        (SSLSocket)
            context
                .getSocketFactory()
                .createSocket(
                    container.getHost(), container.getMappedPort(ValkeyContainers.VALKEY_PORT))) {
      socket.startHandshake();
      return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
    }
  }

  private static PrivateKey pkcs8EcKey(Path file) throws Exception {
    String base64 =
        Files.readString(file).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    return KeyFactory.getInstance("EC")
        .generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
  }

  private static X509Certificate certificate(Path file) throws Exception {
    try (InputStream in = Files.newInputStream(file)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }

  private static BigInteger serialOf(Path file) throws Exception {
    return certificate(file).getSerialNumber();
  }

  private static int restarts(GenericContainer<?> container) {
    Integer count =
        container
            .getDockerClient()
            .inspectContainerCmd(container.getContainerId())
            .exec()
            .getRestartCount();
    return count == null ? 0 : count;
  }

  private static String field(String info, String name) {
    return info.lines()
        .filter(l -> l.startsWith(name + ":"))
        .map(l -> l.substring(name.length() + 1).trim())
        .findFirst()
        .orElse("");
  }

  private static String valkeySays(GenericContainer<?> container, String... command)
      throws Exception {
    return cli(
        container,
        ValkeyContainers.VALKEY_PORT,
        List.of("--user", "admin", "-a", ADMIN_PASSWORD),
        command);
  }

  private static String sentinelSays(GenericContainer<?> container, String... command)
      throws Exception {
    return cli(
        container, ValkeyContainers.SENTINEL_PORT, List.of("-a", SENTINEL_PASSWORD), command);
  }

  // Test-only: the password on the command line of valkey-cli inside a throwaway container.
  private static String cli(
      GenericContainer<?> container, int port, List<String> auth, String... command)
      throws Exception {
    List<String> args =
        new ArrayList<>(List.of("valkey-cli", "--no-auth-warning", "-p", String.valueOf(port)));
    args.addAll(TLS);
    args.addAll(auth);
    args.addAll(List.of(command));
    return container.execInContainer(args.toArray(String[]::new)).getStdout().trim();
  }
}
