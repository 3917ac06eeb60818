package io.valkeyk8s.testserver.scripts;

import static org.assertj.core.api.Assertions.assertThat;

import io.valkeyk8s.testserver.ResilientConnection;
import io.valkeyk8s.testserver.ValkeyTarget;
import io.valkeyk8s.testserver.http.HttpApi;
import io.valkeyk8s.testsupport.AclUsers;
import io.valkeyk8s.testsupport.LoopbackValkey;
import io.valkeyk8s.testsupport.ValkeyProcess;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** run-checks.bash against a real valkey-server, directly and through the HTTP API. */
class RunChecksIT {
  private static final Path SCRIPT = Path.of("run-checks.bash").toAbsolutePath();

  @TempDir Path dir;
  private LoopbackValkey valkey;
  private ValkeyProcess server;

  @BeforeEach
  void start() throws IOException {
    valkey = LoopbackValkey.withUsers(AclUsers.random());
    server = valkey.startServer("standalone", valkey.newHost(), List.of());
  }

  @AfterEach
  void stop() {
    valkey.close();
  }

  private record Run(int exit, String output) {}

  private Run run(Map<String, String> env, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("bash", SCRIPT.toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().remove("VALKEYCLI_AUTH");
    builder.environment().remove("REDISCLI_AUTH");
    builder.environment().putAll(env);
    Process process = builder.start();
    try {
      boolean ended = process.waitFor(60, TimeUnit.SECONDS);
      assertThat(ended).as("run-checks.bash ends by itself").isTrue();
      return new Run(
          process.exitValue(),
          new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    } finally {
      process.destroyForcibly();
    }
  }

  private String[] cliArgs(String seconds) {
    // -t 5: a stall of this busy machine must not look like a failed write.
    return new String[] {"-d", seconds, "-t", "5", "-H", server.host(), "-p", "" + server.port()};
  }

  @Test
  void writesWithValkeyCliUsingThePasswordFromTheEnvironment() throws Exception {
    Run run =
        run(Map.of("VALKEYCLI_AUTH", valkey.users().orElseThrow().clientPassword()), cliArgs("2"));

    assertThat(run.exit()).as(run.output()).isZero();
    assertThat(run.output().lines().filter(l -> l.contains("  OK  "))).hasSize(2);
    assertThat(run.output()).contains("summary: 2 ok, 0 failed");
    String key = "run-checks:" + hostname();
    Long written = valkey.call(server, c -> c.exists(key));
    assertThat(written).isEqualTo(1L);
  }

  @Test
  void reportsEachFailedSecondWhileValkeyIsDown() throws Exception {
    server.kill();

    Run run =
        run(Map.of("VALKEYCLI_AUTH", valkey.users().orElseThrow().clientPassword()), cliArgs("2"));

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.output().lines().filter(l -> l.contains("  FAIL  "))).hasSize(2);
    assertThat(run.output()).contains("summary: 0 ok, 2 failed, longest failure streak 2 s");
  }

  @Test
  void aWrongPasswordIsAFailedCheck() throws Exception {
    Run run = run(Map.of("VALKEYCLI_AUTH", "wrong"), cliArgs("1"));

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.output()).contains("FAIL").contains("WRONGPASS");
  }

  @Test
  void checksThroughTheTestServer() throws Exception {
    try (ResilientConnection connection =
            new ResilientConnection(
                new ValkeyTarget(
                    server.host(),
                    server.port(),
                    "client",
                    valkey.users().orElseThrow().clientPassword()),
                Duration.ofMillis(500));
        HttpApi api = new HttpApi(new InetSocketAddress("127.0.0.1", 0), connection, null)) {
      api.start();

      Run run = run(Map.of(), "-d", "2", "-t", "5", "-u", "http://127.0.0.1:" + api.port());

      assertThat(run.exit()).as(run.output()).isZero();
      assertThat(run.output()).contains("summary: 2 ok, 0 failed");
    }
  }

  @Test
  void badUsageExitsTwoWithoutChecking() throws Exception {
    assertThat(run(Map.of(), "-d", "forever").exit()).isEqualTo(2);
    Run noPassword = run(Map.of(), cliArgs("1"));
    assertThat(noPassword.exit()).isEqualTo(2);
    assertThat(noPassword.output()).contains("set VALKEYCLI_AUTH");
  }

  private static String hostname() throws Exception {
    Process p = new ProcessBuilder("bash", "-c", "echo $HOSTNAME").start();
    p.waitFor(5, TimeUnit.SECONDS);
    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
  }
}
