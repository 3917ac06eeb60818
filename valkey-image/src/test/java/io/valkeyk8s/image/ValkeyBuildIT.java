package io.valkeyk8s.image;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Volume;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;

/**
 * The Valkey build itself: the host (where every other test starts valkey-server) and the image run
 * the same major.minor, and both have jemalloc and TLS (the chart's tls.enabled needs it).
 */
class ValkeyBuildIT {

  private static final Pattern VERSION = Pattern.compile("v=(\\d+)\\.(\\d+)\\.(\\d+)");

  @TempDir static Path certs;

  /** A CA and a server certificate for localhost, made with the host's openssl. */
  @BeforeAll
  static void makeCertificates() throws Exception {
    run(
        certs,
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=valkey-k8s test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt");
    run(
        certs,
        "openssl",
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr");
    Files.writeString(certs.resolve("san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
    run(
        certs,
        "openssl",
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "san.ext",
        "-out",
        "server.crt");
    assertThat(certs.resolve("server.crt"))
        .as("openssl made the server certificate")
        .isNotEmptyFile();
    // Test-only keys: readable by the image's uid 999.
    Files.setPosixFilePermissions(certs, PosixFilePermissions.fromString("rwxr-xr-x"));
    try (var files = Files.list(certs)) {
      for (Path file : files.toList()) {
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
      }
    }
  }

  @Test
  void hostAndImageRunTheSameMajorMinor() throws Exception {
    String host = run(null, "valkey-server", "--version").trim();
    ValkeyContainers.Exit image =
        ValkeyContainers.runToExit(Map.of(), List.of(), List.of("valkey-server"), "--version");
    System.out.println("host:  " + host);
    System.out.println("image: " + image.output().trim());

    assertThat(image.code()).isZero();
    assertThat(majorMinor(image.output()))
        .as("major.minor of the image's valkey-server vs the host's (%s)", host)
        .isEqualTo(majorMinor(host));
  }

  @Test
  void imageServerUsesJemalloc() {
    try (GenericContainer<?> valkey = ValkeyContainers.valkey(ValkeyContainers.passwords())) {
      valkey.start();
      RedisClient client =
          ValkeyContainers.client(valkey, "admin", ValkeyContainers.ADMIN_PASSWORD);
      try (StatefulRedisConnection<String, String> connection = client.connect()) {
        // mem_allocator is in INFO's memory section.
        String info = connection.sync().info("everything");
        System.out.println(
            info.lines()
                .filter(line -> line.startsWith("valkey_version") || line.startsWith("mem_alloc"))
                .toList());
        assertThat(info).containsPattern("(?m)^mem_allocator:jemalloc-");
      } finally {
        client.shutdown();
      }
    }
  }

  @Test
  void imageServesTls() throws Exception {
    // Plaintext port closed, TLS on 6380; valkey-cli inside the same container connects with TLS.
    String script =
        "valkey-server --port 0 --tls-port 6380 --tls-cert-file /certs/server.crt"
            + " --tls-key-file /certs/server.key --tls-ca-cert-file /certs/ca.crt"
            + " --tls-auth-clients no --dir /data --save '' &"
            + " for i in $(seq 50); do"
            + "   out=$(valkey-cli --tls --cacert /certs/ca.crt -h localhost -p 6380 PING 2>&1)"
            + "   && [ \"$out\" = PONG ] && { echo \"tls:$out\"; exit 0; }; sleep 0.2;"
            + " done; echo \"no TLS answer: $out\"; exit 1";
    ValkeyContainers.Exit exit =
        ValkeyContainers.runToExit(
            Map.of(),
            List.of(new Bind(certs.toString(), new Volume("/certs"), AccessMode.ro)),
            List.of("bash", "-c"),
            script);
    System.out.println(exit.output());
    assertThat(exit.output()).contains("tls:PONG");
    assertThat(exit.code()).isZero();
  }

  @Test
  void hostServerServesTls() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    Process server =
        new ProcessBuilder(
                "valkey-server",
                "--port",
                "0",
                "--tls-port",
                String.valueOf(port),
                "--bind",
                "127.0.0.1",
                "--tls-cert-file",
                "server.crt",
                "--tls-key-file",
                "server.key",
                "--tls-ca-cert-file",
                "ca.crt",
                "--tls-auth-clients",
                "no",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                certs.toString())
            .directory(certs.toFile())
            .redirectErrorStream(true)
            .redirectOutput(certs.resolve("server.log").toFile())
            .start();
    try {
      String answer = "";
      for (int i = 0; i < 50 && !answer.equals("PONG"); i++) {
        Thread.sleep(200);
        answer =
            run(
                    certs,
                    "valkey-cli",
                    "--tls",
                    "--cacert",
                    "ca.crt",
                    "-h",
                    "localhost",
                    "-p",
                    String.valueOf(port),
                    "PING")
                .trim();
      }
      System.out.println("host valkey-cli --tls PING: " + answer);
      assertThat(answer).as(Files.readString(certs.resolve("server.log"))).isEqualTo("PONG");
    } finally {
      server.destroy();
      server.waitFor(10, TimeUnit.SECONDS);
    }
  }

  private static String majorMinor(String versionLine) {
    Matcher m = VERSION.matcher(versionLine);
    assertThat(m.find()).as("a version in '%s'", versionLine).isTrue();
    return m.group(1) + "." + m.group(2);
  }

  /** Runs a host command to completion; its output (stdout and stderr). */
  private static String run(Path dir, String... command) throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder(new ArrayList<>(List.of(command)));
    if (dir != null) {
      builder.directory(dir.toFile());
    }
    Process process = builder.redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("%s ends", command[0]).isTrue();
    return output;
  }
}
