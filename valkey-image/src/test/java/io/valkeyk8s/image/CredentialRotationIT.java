package io.valkeyk8s.image;

import static io.valkeyk8s.image.ValkeyContainers.ADMIN_PASSWORD;
import static io.valkeyk8s.image.ValkeyContainers.CLIENT_PASSWORD;
import static io.valkeyk8s.image.ValkeyContainers.REPLICATION_PASSWORD;
import static io.valkeyk8s.image.ValkeyContainers.SENTINEL_PASSWORD;
import static io.valkeyk8s.image.ValkeyContainers.SENTINEL_PORT;
import static io.valkeyk8s.image.ValkeyContainers.VALKEY_PORT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.github.dockerjava.api.model.AccessMode;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.Volume;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * Password rotation without restarts, as the chart runs it: two Sentinel-mode pods, each a valkey,
 * a sentinel and a credentials sidecar ({@code watch-credentials}) sharing one network namespace,
 * and the credentials Secret as a directory of one file per user mounted read-only in all of them.
 * The test rewrites the files (atomically, as the kubelet does) and checks that every server takes
 * the new passwords, keeps the old ones for the grace period and then refuses them, that the
 * replication link and the Sentinels' links survive a reconnect with the new passwords, and that no
 * server process restarted.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CredentialRotationIT {

  private static final Duration PATIENCE = Duration.ofSeconds(60);
  private static final int GRACE_SECONDS = 15;
  private static final Map<String, String> OLD =
      Map.of(
          "admin", ADMIN_PASSWORD,
          "client", CLIENT_PASSWORD,
          "replication", REPLICATION_PASSWORD,
          "sentinel", SENTINEL_PASSWORD);
  private static final Map<String, String> NEW =
      Map.of(
          "admin", "admin-rotated-5",
          "client", "client-rotated-6",
          "replication", "replication-rotated-7",
          "sentinel", "sentinel-rotated-8");

  @TempDir static Path tmp;
  private static Path credentials;
  private static Network network;
  private static final List<Pod> pods = new ArrayList<>();
  private static final Map<String, String> runIds = new HashMap<>();

  /** The containers of one pod; sentinel and sidecar live in the valkey container's network. */
  private record Pod(
      String name,
      GenericContainer<?> valkey,
      GenericContainer<?> sentinel,
      GenericContainer<?> sidecar) {}

  @BeforeAll
  static void startTwoPods() throws Exception {
    credentials = Files.createDirectory(tmp.resolve("credentials"));
    Files.setPosixFilePermissions(credentials, PosixFilePermissions.fromString("rwxr-xr-x"));
    writeCredentials(OLD);
    network = Network.newNetwork();
    for (String name : List.of("pod-0", "pod-1")) {
      pods.add(startPod(name));
    }
    Pod replica = pods.get(1);
    await()
        .atMost(PATIENCE)
        .untilAsserted(
            () ->
                assertThat(valkeySays(replica, ADMIN_PASSWORD, "INFO", "replication"))
                    .contains("role:slave", "master_host:pod-0", "master_link_status:up"));
    for (Pod pod : pods) {
      await()
          .atMost(PATIENCE)
          .untilAsserted(
              () ->
                  assertThat(sentinelSays(pod, SENTINEL_PASSWORD, "INFO", "sentinel"))
                      .contains("status=ok", "slaves=1", "sentinels=2"));
    }
    for (Pod pod : pods) {
      runIds.put(pod.name() + "/valkey", runId(valkeySays(pod, ADMIN_PASSWORD, "INFO", "server")));
      runIds.put(
          pod.name() + "/sentinel", runId(sentinelSays(pod, SENTINEL_PASSWORD, "INFO", "server")));
    }
  }

  @AfterAll
  static void stopAll() {
    for (Pod pod : pods.reversed()) {
      pod.sidecar().stop();
      pod.sentinel().stop();
      pod.valkey().stop();
    }
    if (network != null) {
      network.close();
    }
  }

  @Test
  @Order(1)
  void newPasswordsAreAcceptedAndTheOldOnesStillAreDuringTheGracePeriod() throws Exception {
    writeCredentials(NEW);

    for (Pod pod : pods) {
      await()
          .atMost(PATIENCE)
          .untilAsserted(
              () -> {
                assertThat(ping(pod, VALKEY_PORT, "client", NEW.get("client"))).isEqualTo("PONG");
                assertThat(ping(pod, VALKEY_PORT, "admin", NEW.get("admin"))).isEqualTo("PONG");
                assertThat(ping(pod, VALKEY_PORT, "replication", NEW.get("replication")))
                    .isEqualTo("PONG");
                assertThat(ping(pod, SENTINEL_PORT, null, NEW.get("sentinel"))).isEqualTo("PONG");
              });
    }
    // Well inside the grace period: clients still holding the old passwords keep working.
    for (Pod pod : pods) {
      assertThat(ping(pod, VALKEY_PORT, "client", CLIENT_PASSWORD)).isEqualTo("PONG");
      assertThat(ping(pod, VALKEY_PORT, "admin", ADMIN_PASSWORD)).isEqualTo("PONG");
      assertThat(ping(pod, SENTINEL_PORT, null, SENTINEL_PASSWORD)).isEqualTo("PONG");
    }
  }

  @Test
  @Order(2)
  void outwardPasswordsSwitchOnceEveryPeerAcceptsTheNewOnes() throws Exception {
    for (Pod pod : pods) {
      await()
          .atMost(PATIENCE)
          .untilAsserted(
              () -> {
                assertThat(valkeySays(pod, NEW.get("admin"), "CONFIG", "GET", "masterauth").lines())
                    .containsExactly("masterauth", NEW.get("replication"));
                assertThat(
                        sentinelSays(
                                pod,
                                NEW.get("sentinel"),
                                "SENTINEL",
                                "CONFIG",
                                "GET",
                                "sentinel-pass")
                            .lines())
                    .containsExactly("sentinel-pass", NEW.get("sentinel"));
              });
    }
  }

  @Test
  @Order(3)
  void oldPasswordsAreRefusedAfterTheGracePeriod() throws Exception {
    for (Pod pod : pods) {
      await()
          .atMost(Duration.ofSeconds(GRACE_SECONDS + 30))
          .untilAsserted(
              () -> {
                assertThat(ping(pod, VALKEY_PORT, "client", CLIENT_PASSWORD)).contains("NOAUTH");
                assertThat(ping(pod, VALKEY_PORT, "admin", ADMIN_PASSWORD)).contains("NOAUTH");
                assertThat(ping(pod, VALKEY_PORT, "replication", REPLICATION_PASSWORD))
                    .contains("NOAUTH");
                assertThat(ping(pod, VALKEY_PORT, "sentinel", SENTINEL_PASSWORD))
                    .contains("NOAUTH");
                assertThat(ping(pod, SENTINEL_PORT, null, SENTINEL_PASSWORD)).contains("NOAUTH");
              });
      assertThat(ping(pod, VALKEY_PORT, "client", NEW.get("client"))).isEqualTo("PONG");
    }
  }

  @Test
  @Order(4)
  void linksReconnectWithTheNewPasswordsAndNoServerRestarted() throws Exception {
    Pod primary = pods.get(0);
    Pod replica = pods.get(1);
    // Drop every link so each one authenticates again, now only with the new passwords.
    for (Pod pod : pods) {
      // Forget the failed AUTHs so far (the sidecars' and this test's own tries).
      assertThat(valkeySays(pod, NEW.get("admin"), "ACL", "LOG", "RESET")).isEqualTo("OK");
      valkeySays(pod, NEW.get("admin"), "CLIENT", "KILL", "TYPE", "replica");
      valkeySays(pod, NEW.get("admin"), "CLIENT", "KILL", "TYPE", "normal");
      valkeySays(pod, NEW.get("admin"), "CLIENT", "KILL", "TYPE", "pubsub");
      sentinelSays(pod, NEW.get("sentinel"), "CLIENT", "KILL", "TYPE", "normal");
      sentinelSays(pod, NEW.get("sentinel"), "CLIENT", "KILL", "TYPE", "pubsub");
    }
    assertThat(valkeySays(primary, NEW.get("admin"), "SET", "after-rotation", "yes"))
        .isEqualTo("OK");
    await()
        .atMost(PATIENCE)
        .untilAsserted(
            () -> {
              assertThat(valkeySays(replica, NEW.get("admin"), "INFO", "replication"))
                  .contains("master_link_status:up");
              assertThat(valkeySays(replica, NEW.get("admin"), "GET", "after-rotation"))
                  .isEqualTo("yes");
            });
    Thread.sleep(5_000); // several Sentinel ping/hello periods, each a chance to fail auth
    for (Pod pod : pods) {
      assertThat(sentinelSays(pod, NEW.get("sentinel"), "INFO", "sentinel"))
          .contains("status=ok", "slaves=1", "sentinels=2");
      assertThat(sentinelSays(pod, NEW.get("sentinel"), "SENTINEL", "MASTER", "myprimary").lines())
          .containsSequence("flags", "master");
      // No internal link failed to authenticate when it reconnected.
      assertThat(failedUsers(valkeySays(pod, NEW.get("admin"), "ACL", "LOG")))
          .doesNotContain("replication", "sentinel");
      assertThat(runId(valkeySays(pod, NEW.get("admin"), "INFO", "server")))
          .isEqualTo(runIds.get(pod.name() + "/valkey"));
      assertThat(runId(sentinelSays(pod, NEW.get("sentinel"), "INFO", "server")))
          .isEqualTo(runIds.get(pod.name() + "/sentinel"));
      for (GenericContainer<?> container : List.of(pod.valkey(), pod.sentinel(), pod.sidecar())) {
        assertThat(container.isRunning()).isTrue();
        assertThat(
                container
                    .getDockerClient()
                    .inspectContainerCmd(container.getContainerId())
                    .exec()
                    .getRestartCount())
            .isZero();
        String logs = container.getLogs();
        for (String password : NEW.values()) {
          assertThat(logs).doesNotContain(password);
        }
      }
    }
    assertThat(primary.sidecar().getLogs())
        .contains("now accepts the new password of user client")
        .contains("authenticates to its primary with the new replication password")
        .contains("no longer accepts the old password of user client");
  }

  @Test
  @Order(5)
  void aGracePeriodThatIsNotANumberStopsTheSidecar() throws Exception {
    Map<String, String> env = new HashMap<>(ValkeyContainers.passwords());
    env.put("VALKEY_ROTATION_GRACE_SECONDS", "5m");
    var exit =
        ValkeyContainers.runToExit(env, List.of(credentialsBind()), null, "watch-credentials");
    assertThat(exit.code()).as(exit.output()).isEqualTo(2);
    assertThat(exit.lines())
        .singleElement()
        .asString()
        .isEqualTo(
            "valkey-entrypoint: error: VALKEY_ROTATION_GRACE_SECONDS must be a non-negative"
                + " integer, got '5m'");
  }

  private static Pod startPod(String name) {
    Map<String, String> env = new HashMap<>(ValkeyContainers.passwords());
    env.put("VALKEY_SENTINEL_PASSWORD", SENTINEL_PASSWORD);
    env.put("VALKEY_MODE", "sentinel");
    env.put("VALKEY_PEERS", "pod-0 pod-1");
    env.put("POD_NAME", name);
    env.put("VALKEY_ANNOUNCE_HOSTNAME", name);
    GenericContainer<?> valkey =
        ValkeyContainers.container("valkey", env, null)
            .withNetwork(network)
            .withNetworkAliases(name)
            .withExposedPorts(VALKEY_PORT, SENTINEL_PORT)
            .withCreateContainerCmdModifier(
                cmd -> {
                  cmd.withHostName(name);
                  cmd.getHostConfig().withReadonlyRootfs(true).withBinds(credentialsBind());
                });
    valkey.start();
    GenericContainer<?> sentinel = inPod(valkey, "sentinel", env, ".*\\+monitor master.*");
    sentinel.start();
    Map<String, String> sidecarEnv = new HashMap<>(env);
    sidecarEnv.put("VALKEY_ROTATION_GRACE_SECONDS", String.valueOf(GRACE_SECONDS));
    sidecarEnv.put("VALKEY_CREDENTIALS_POLL_SECONDS", "1");
    GenericContainer<?> sidecar =
        inPod(valkey, "watch-credentials", sidecarEnv, ".*credentials: watching.*");
    sidecar.start();
    return new Pod(name, valkey, sentinel, sidecar);
  }

  /** Another container of the pod: the valkey container's network namespace, like Kubernetes. */
  @SuppressWarnings("resource") // stopped in stopAll
  private static GenericContainer<?> inPod(
      GenericContainer<?> valkey, String role, Map<String, String> env, String readyLog) {
    return new GenericContainer<>(DockerImageName.parse(ValkeyContainers.IMAGE))
        .withImagePullPolicy(image -> false)
        .withCommand(role)
        .withEnv(env)
        .withTmpFs(Map.of("/run/valkey", "rw,uid=999,gid=999,mode=0700"))
        .withNetworkMode("container:" + valkey.getContainerId())
        .waitingFor(Wait.forLogMessage(readyLog, 1).withStartupTimeout(Duration.ofSeconds(90)))
        .withCreateContainerCmdModifier(
            cmd -> cmd.getHostConfig().withReadonlyRootfs(true).withBinds(credentialsBind()));
  }

  private static Bind credentialsBind() {
    return new Bind(credentials.toString(), new Volume("/etc/valkey/credentials"), AccessMode.ro);
  }

  /** Replaces every file at once, as the kubelet swaps a Secret volume's contents. */
  private static void writeCredentials(Map<String, String> passwords) throws Exception {
    for (var entry : passwords.entrySet()) {
      Path next = credentials.resolve("." + entry.getKey() + ".tmp");
      Files.writeString(next, entry.getValue());
      Files.setPosixFilePermissions(next, PosixFilePermissions.fromString("rw-r--r--"));
      Files.move(
          next,
          credentials.resolve(entry.getKey()),
          StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static String runId(String info) {
    return info.lines()
        .filter(line -> line.startsWith("run_id:"))
        .findFirst()
        .orElseThrow()
        .strip();
  }

  /** The usernames of ACL LOG entries (failed AUTHs and denied commands). */
  private static List<String> failedUsers(String aclLog) {
    List<String> lines = aclLog.lines().toList();
    List<String> users = new ArrayList<>();
    for (int i = 0; i + 1 < lines.size(); i++) {
      if (lines.get(i).equals("username")) {
        users.add(lines.get(i + 1));
      }
    }
    return users;
  }

  private static String ping(Pod pod, int port, String user, String password) throws Exception {
    List<String> auth = new ArrayList<>();
    if (user != null) {
      auth.addAll(List.of("--user", user));
    }
    auth.addAll(List.of("-a", password));
    return cli(pod, port, auth, "PING");
  }

  private static String valkeySays(Pod pod, String adminPassword, String... command)
      throws Exception {
    return cli(pod, VALKEY_PORT, List.of("--user", "admin", "-a", adminPassword), command);
  }

  private static String sentinelSays(Pod pod, String password, String... command) throws Exception {
    return cli(pod, SENTINEL_PORT, List.of("-a", password), command);
  }

  // Test-only: the password on the command line of valkey-cli inside a throwaway exec.
  private static String cli(Pod pod, int port, List<String> auth, String... command)
      throws Exception {
    List<String> args =
        new ArrayList<>(List.of("valkey-cli", "--no-auth-warning", "-p", String.valueOf(port)));
    args.addAll(auth);
    args.addAll(List.of(command));
    var result = pod.valkey().execInContainer(args.toArray(String[]::new));
    return (result.getStdout() + result.getStderr()).trim();
  }
}
