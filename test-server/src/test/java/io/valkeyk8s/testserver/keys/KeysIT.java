package io.valkeyk8s.testserver.keys;

import static org.assertj.core.api.Assertions.assertThat;

import io.valkeyk8s.testserver.Main;
import io.valkeyk8s.testserver.tls.TlsServers;
import io.valkeyk8s.testsupport.AclUsers;
import io.valkeyk8s.testsupport.LoopbackCluster;
import io.valkeyk8s.testsupport.LoopbackValkey;
import io.valkeyk8s.testsupport.TestCertificates;
import io.valkeyk8s.testsupport.ValkeyProcess;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code keys load} and {@code keys check} against real valkey-server processes: standalone, a
 * 3-primary cluster, and a cluster that speaks only TLS to clients and on its bus. The timings
 * printed are the benchmark (no timed assertions).
 */
class KeysIT {
  @TempDir Path dir;

  private record Run(int exit, String out) {}

  private static Run keys(Map<String, String> env, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine(env);
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    List<String> all = new ArrayList<>(List.of("keys"));
    all.addAll(List.of(args));
    int exit = cli.execute(all.toArray(String[]::new));
    System.out.print(out);
    System.out.print(err);
    return new Run(exit, out.toString().strip());
  }

  private static Map<String, String> env(LoopbackValkey valkey, String host, int port) {
    Map<String, String> env = new HashMap<>();
    env.put("VALKEY_HOST", host);
    env.put("VALKEY_PORT", "" + port);
    env.put("VALKEY_PASSWORD", valkey.users().orElseThrow().clientPassword());
    return env;
  }

  @Test
  void loadThenCheckStandaloneFindsMissingAndWrongKeys() throws Exception {
    try (LoopbackValkey valkey = LoopbackValkey.withUsers(AclUsers.random())) {
      ValkeyProcess server = valkey.startServer("standalone", valkey.newHost(), List.of());
      Map<String, String> env = env(valkey, server.host(), server.port());

      Run load = keys(env, "load", "--count", "20000", "--prefix", "bulk", "--value-size", "64");
      Run check = keys(env, "check", "--count", "20000", "--prefix", "bulk", "--value-size", "64");

      assertThat(load.exit()).as(load.out()).isZero();
      assertThat(load.out()).startsWith("keys load: 20000 of 20000 keys written");
      Long stored = valkey.call(server, c -> c.dbsize());
      String value = valkey.call(server, c -> c.get("bulk:17"));
      assertThat(stored).isEqualTo(20000L);
      assertThat(value).hasSize(64).startsWith("17:");
      assertThat(check.exit()).as(check.out()).isZero();
      assertThat(check.out()).contains("20000 ok, 0 missing, 0 wrong");

      valkey.call(server, c -> c.del("bulk:17", "bulk:18"));
      valkey.call(server, c -> c.set("bulk:99", "someone else's"));
      Run damaged =
          keys(env, "check", "--count", "20000", "--prefix", "bulk", "--value-size", "64");
      Run otherSize = keys(env, "check", "--count", "100", "--prefix", "bulk");

      assertThat(damaged.exit()).isEqualTo(1);
      assertThat(damaged.out())
          .contains("19997 ok, 2 missing, 1 wrong")
          .contains("first: bulk:17 missing, bulk:18 missing, bulk:99 wrong (\"someone else's\"");
      assertThat(damaged.out().lines()).hasSize(1);
      assertThat(otherSize.exit()).as("the values were loaded 64 bytes long").isEqualTo(1);

      server.kill();
      Run unreachable =
          keys(
              env,
              "check",
              "--count",
              "20000",
              "--prefix",
              "bulk",
              "--retry-for",
              "1s",
              "--timeout",
              "200ms");
      assertThat(unreachable.exit()).as(unreachable.out()).isEqualTo(3);
      assertThat(unreachable.out())
          .contains("0 ok, 0 missing, 0 wrong, 20000 NOT read")
          .contains("; connection: ");
    }
  }

  @Test
  void loadThenCheck50000KeysOnACluster() throws Exception {
    try (LoopbackValkey valkey = LoopbackValkey.withUsers(AclUsers.random())) {
      LoopbackCluster cluster = LoopbackCluster.start(valkey, 3, 0, host -> List.of());
      ValkeyProcess seed = cluster.primaries().getFirst();
      Map<String, String> env = env(valkey, seed.host(), seed.port());

      Run load = keys(env, "load", "--cluster", "--count", "50000", "--prefix", "scale");
      Run check = keys(env, "check", "--cluster", "--count", "50000", "--prefix", "scale");

      assertThat(load.exit()).as(load.out()).isZero();
      assertThat(check.exit()).as(check.out()).isZero();
      assertThat(check.out()).contains("50000 ok, 0 missing, 0 wrong");
      long total = 0;
      for (ValkeyProcess primary : cluster.primaries()) {
        long keys = valkey.call(primary, c -> c.dbsize());
        assertThat(keys).as("keys spread over every primary").isGreaterThan(10_000);
        total += keys;
      }
      assertThat(total).isEqualTo(50_000);
    }
  }

  @Test
  void loadThenCheckOnAClusterThatSpeaksOnlyTls() throws Exception {
    try (LoopbackValkey valkey = LoopbackValkey.withUsers(AclUsers.random())) {
      TestCertificates certs = TestCertificates.create(dir.resolve("certs"));
      int[] tlsPort = {0};
      LoopbackCluster cluster =
          LoopbackCluster.start(
              valkey,
              3,
              1,
              host -> {
                try {
                  tlsPort[0] = TlsServers.tlsPortOn(host, valkey.port());
                  List<String> settings =
                      new ArrayList<>(
                          TlsServers.settings(
                              tlsPort[0],
                              certs.server("node-" + host, List.of(host)),
                              certs.caFile(),
                              "no"));
                  settings.add("tls-cluster yes");
                  settings.add("tls-replication yes");
                  return settings;
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      ValkeyProcess seed = cluster.primaries().getFirst();
      Map<String, String> env = env(valkey, seed.host(), tlsPort[0]);
      env.put("VALKEY_TLS", "true");
      env.put("VALKEY_TLS_CA_FILE", certs.caFile().toString());

      Run load = keys(env, "load", "--cluster", "--count", "5000", "--prefix", "tls");
      Run check = keys(env, "check", "--cluster", "--count", "5000", "--prefix", "tls");

      assertThat(load.exit()).as(load.out()).isZero();
      assertThat(check.exit()).as(check.out()).isZero();
      assertThat(check.out()).contains("5000 ok, 0 missing, 0 wrong");
      for (ValkeyProcess primary : cluster.primaries()) {
        Long keys = valkey.call(primary, c -> c.dbsize());
        assertThat(keys).isPositive();
      }
    }
  }
}
