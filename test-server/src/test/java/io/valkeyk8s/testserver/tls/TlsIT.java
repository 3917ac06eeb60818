package io.valkeyk8s.testserver.tls;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.valkeyk8s.testserver.Connector;
import io.valkeyk8s.testserver.Main;
import io.valkeyk8s.testserver.TlsSettings;
import io.valkeyk8s.testserver.ValkeyConnection;
import io.valkeyk8s.testserver.ValkeyTarget;
import io.valkeyk8s.testserver.http.HttpApi;
import io.valkeyk8s.testserver.probe.ErrorKind;
import io.valkeyk8s.testserver.probe.ProbeOptions;
import io.valkeyk8s.testserver.probe.ProbeReport;
import io.valkeyk8s.testserver.probe.ProbeSession;
import io.valkeyk8s.testsupport.AclUsers;
import io.valkeyk8s.testsupport.LoopbackValkey;
import io.valkeyk8s.testsupport.TestCertificates;
import io.valkeyk8s.testsupport.ValkeyProcess;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * TLS against a real valkey-server with certificates the test makes: the probe writes over TLS
 * (with and without a client certificate), and a wrong CA, a hostname the certificate does not
 * name, a missing client certificate and plaintext to the TLS port all fail with a clear kind.
 */
class TlsIT {
  private static final Duration TIMEOUT = Duration.ofMillis(500);

  @TempDir Path dir;
  private LoopbackValkey valkey;
  private TestCertificates certs;
  private String host;
  private int tlsPort;
  private ValkeyProcess server;

  @BeforeEach
  void start() throws Exception {
    valkey = LoopbackValkey.withUsers(AclUsers.random());
    certs = TestCertificates.create(dir.resolve("certs"));
    host = valkey.newHost();
    tlsPort = TlsServers.tlsPortOn(host, valkey.port());
  }

  @AfterEach
  void stop() {
    valkey.close();
  }

  private void startServer(Path[] certificate, String authClients) throws Exception {
    server =
        valkey.startServer(
            "tls", host, TlsServers.settings(tlsPort, certificate, certs.caFile(), authClients));
  }

  private ValkeyTarget target(int port) {
    return new ValkeyTarget(host, port, "client", valkey.users().orElseThrow().clientPassword());
  }

  private Map<String, String> env(Map<String, String> tls) {
    Map<String, String> env = new HashMap<>(tls);
    env.put("VALKEY_HOST", host);
    env.put("VALKEY_PORT", "" + tlsPort);
    env.put("VALKEY_PASSWORD", valkey.users().orElseThrow().clientPassword());
    return env;
  }

  /** A short probe run through the connector; returns its report. */
  private ProbeReport probe(Connector connector, int writes) {
    try (ProbeSession session =
        new ProbeSession(
            connector,
            new ProbeOptions(Duration.ofMillis(5), null, writes, Duration.ofMinutes(5)),
            Duration.ofSeconds(2),
            ProbeSession.newRunId())) {
      session.run();
      return session.report();
    }
  }

  /** How a write through the connector fails (it must fail). */
  private static ErrorKind failureOfAWrite(Connector connector) {
    try (ValkeyConnection connection = connector.open()) {
      connection.call(redis -> redis.set("tls-test", "x"));
    } catch (RuntimeException e) {
      System.out.println("failed as " + ErrorKind.classify(e).label() + ": " + e);
      return ErrorKind.classify(e);
    }
    throw new AssertionError("the write succeeded");
  }

  private static TlsSettings verifiedBy(Path caFile) {
    return new TlsSettings(true, caFile, null, null, false);
  }

  @Test
  void theProbeCommandWritesOverTlsVerifyingTheServerAgainstTheCa() throws Exception {
    startServer(certs.server("valkey", List.of(host)), "no");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli =
        Main.commandLine(
            env(Map.of("VALKEY_TLS", "true", "VALKEY_TLS_CA_FILE", certs.caFile().toString())));
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));

    long started = System.nanoTime();
    int exit = cli.execute("probe", "--max-writes", "50", "--interval", "5ms", "--json");

    assertThat(exit).as(out + "\n" + err).isZero();
    JsonNode report = new ObjectMapper().readTree(out.toString());
    System.out.printf(
        "50 writes over TLS (first connection and handshake included) in %d ms, %d window(s)%n",
        (System.nanoTime() - started) / 1_000_000, report.get("windows").size());
    assertThat(report.get("ackedWrites").asLong()).isEqualTo(50);
    assertThat(report.get("missingAckedWrites").asLong()).isZero();
    assertThat(report.get("verified").asBoolean()).isTrue();
    assertThat(report.get("target").asText()).isEqualTo(host + ":" + tlsPort);
  }

  @Test
  void aServerCertificateFromAnotherCaFailsAsTls() throws Exception {
    startServer(certs.server("valkey", List.of(host)), "no");
    TlsSettings wrongCa = verifiedBy(certs.otherCa("other-ca"));

    assertThat(failureOfAWrite(new Connector(target(tlsPort), wrongCa, TIMEOUT, null)))
        .isEqualTo(ErrorKind.TLS);
  }

  @Test
  void aCertificateThatDoesNotNameTheHostFailsUnlessVerificationIsSkipped() throws Exception {
    startServer(certs.server("elsewhere", List.of("10.0.0.1", "valkey.example")), "no");

    ErrorKind verified =
        failureOfAWrite(new Connector(target(tlsPort), verifiedBy(certs.caFile()), TIMEOUT, null));
    ProbeReport skipped =
        probe(
            new Connector(
                target(tlsPort), new TlsSettings(true, null, null, null, true), TIMEOUT, null),
            5);

    assertThat(verified).isEqualTo(ErrorKind.TLS);
    assertThat(skipped.ackedWrites()).isEqualTo(5);
    assertThat(skipped.missingAckedWrites()).isZero();
  }

  @Test
  void plaintextToTheTlsPortFailsAndSoDoesTlsToThePlaintextPort() throws Exception {
    startServer(certs.server("valkey", List.of(host)), "no");

    ErrorKind plaintext = failureOfAWrite(Connector.standalone(target(tlsPort), TIMEOUT));
    ErrorKind tlsToPlain =
        failureOfAWrite(
            new Connector(target(server.port()), verifiedBy(certs.caFile()), TIMEOUT, null));

    // Valkey drops a connection whose first bytes are no TLS record.
    assertThat(plaintext).isIn(ErrorKind.CONNECTION, ErrorKind.TIMEOUT);
    // A plaintext server waits for the end of a line that a ClientHello never sends: the
    // handshake runs into the timeout or the connection closes; nothing says "TLS" here.
    assertThat(tlsToPlain).isIn(ErrorKind.CONNECTION, ErrorKind.TIMEOUT, ErrorKind.TLS);
  }

  @Test
  void aServerThatRequiresClientCertificatesTakesOurPkcs1ClientKey() throws Exception {
    startServer(certs.server("valkey", List.of(host)), "yes");
    Path[] client = certs.client("test-server");

    ErrorKind without =
        failureOfAWrite(new Connector(target(tlsPort), verifiedBy(certs.caFile()), TIMEOUT, null));
    StringWriter out = new StringWriter();
    CommandLine cli =
        Main.commandLine(
            env(
                Map.of(
                    "VALKEY_TLS", "true",
                    "VALKEY_TLS_CA_FILE", certs.caFile().toString(),
                    "VALKEY_TLS_CERT_FILE", client[0].toString(),
                    "VALKEY_TLS_KEY_FILE", client[1].toString())));
    cli.setOut(new PrintWriter(out, true));
    int exit = cli.execute("probe", "--max-writes", "20", "--interval", "5ms", "--json");

    // TLS 1.3: the server checks the client certificate after the client's handshake is done,
    // so its refusal may arrive as a closed connection rather than an alert.
    assertThat(without).isIn(ErrorKind.TLS, ErrorKind.CONNECTION);
    assertThat(new ObjectMapper().readTree(out.toString()).get("ackedWrites").asLong())
        .as(out.toString())
        .isEqualTo(20);
    assertThat(exit).as(out.toString()).isZero();
  }

  @Test
  void serveChecksWritesOverTls() throws Exception {
    startServer(certs.server("valkey", List.of(host)), "no");
    Connector connector =
        new Connector(
            target(tlsPort),
            new TlsSettings(true, certs.caFile(), null, null, false),
            TIMEOUT,
            null);
    try (ValkeyConnection connection = connector.open();
        HttpApi api = new HttpApi(new InetSocketAddress("127.0.0.1", 0), connection, null)) {
      api.start();
      HttpResponse<String> check =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port() + "/check"))
                      .POST(HttpRequest.BodyPublishers.noBody())
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(check.statusCode()).as(check.body()).isEqualTo(200);
    }
  }

  /** run-checks.bash -H with the environment, as someone watching a TLS release would run it. */
  private String[] runChecks(Map<String, String> tls) throws Exception {
    ProcessBuilder builder =
        new ProcessBuilder(
                "bash",
                Path.of("run-checks.bash").toAbsolutePath().toString(),
                "-d",
                "1",
                "-t",
                "5",
                "-H",
                host,
                "-p",
                "" + tlsPort)
            .redirectErrorStream(true);
    builder.environment().keySet().removeIf(k -> k.startsWith("VALKEY") || k.endsWith("CLI_AUTH"));
    builder.environment().put("VALKEYCLI_AUTH", valkey.users().orElseThrow().clientPassword());
    builder.environment().putAll(tls);
    Process process = builder.start();
    assertThat(process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    return new String[] {
      "" + process.exitValue(), new String(process.getInputStream().readAllBytes()).strip()
    };
  }

  @Test
  void runChecksWritesWithValkeyCliOverTls() throws Exception {
    startServer(certs.server("valkey", List.of(host)), "yes");
    Path[] client = certs.client("run-checks");

    String[] verified =
        runChecks(
            Map.of(
                "VALKEY_TLS", "true",
                "VALKEY_TLS_CA_FILE", certs.caFile().toString(),
                "VALKEY_TLS_CERT_FILE", client[0].toString(),
                "VALKEY_TLS_KEY_FILE", client[1].toString()));
    String[] wrongCa =
        runChecks(
            Map.of(
                "VALKEY_TLS", "true",
                "VALKEY_TLS_CA_FILE", certs.otherCa("other").toString(),
                "VALKEY_TLS_CERT_FILE", client[0].toString(),
                "VALKEY_TLS_KEY_FILE", client[1].toString()));
    String[] plaintext = runChecks(Map.of());
    String[] contradiction =
        runChecks(
            Map.of(
                "VALKEY_TLS", "true",
                "VALKEY_TLS_CA_FILE", certs.caFile().toString(),
                "VALKEY_TLS_INSECURE_SKIP_VERIFY", "true"));
    String[] withoutTls = runChecks(Map.of("VALKEY_TLS_CA_FILE", certs.caFile().toString()));

    assertThat(verified[0]).as(verified[1]).isEqualTo("0");
    assertThat(verified[1]).contains("valkeys://client@").contains("summary: 1 ok, 0 failed");
    assertThat(wrongCa[0]).as(wrongCa[1]).isEqualTo("1");
    assertThat(plaintext[0]).as(plaintext[1]).isEqualTo("1");
    assertThat(contradiction[0]).isEqualTo("2");
    assertThat(contradiction[1]).contains("contradict each other");
    assertThat(withoutTls[0]).isEqualTo("2");
    assertThat(withoutTls[1])
        .isEqualTo(
            "run-checks: VALKEY_TLS_CA_FILE is set but VALKEY_TLS is not true: set VALKEY_TLS=true"
                + " to use TLS");
  }
}
