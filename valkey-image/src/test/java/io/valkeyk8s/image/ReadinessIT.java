package io.valkeyk8s.image;

import static io.valkeyk8s.image.ValkeyContainers.ADMIN_PASSWORD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;

/**
 * {@code valkey-entrypoint ready}, the data pods' readiness probe: ready means in sync, so that a
 * rolling update takes the next pod only once this one holds its copy. Real containers of the image
 * on a Docker network, one per pod, reached by their pod names.
 */
class ReadinessIT {

  private static final Duration PATIENCE = Duration.ofSeconds(60);

  private Network network;
  private final List<GenericContainer<?>> started = new ArrayList<>();

  @BeforeEach
  void network() {
    network = Network.newNetwork();
  }

  @AfterEach
  void stopAll() {
    started.forEach(GenericContainer::stop);
    network.close();
  }

  @Test
  void aSentinelModeReplicaIsReadyOnlyWhileInSyncWithItsPrimary() throws Exception {
    // Two first pods of their own sets (no Sentinel answers, ordinal 0): both start as primary.
    GenericContainer<?> primary = pod("sentinel", "left-0", "left-0");
    GenericContainer<?> replica = pod("sentinel", "right-0", "right-0");
    assertThat(ready(primary).getExitCode()).as("a primary").isZero();
    say(primary, "SET", "k", "v");

    say(replica, "REPLICAOF", ip(primary), "6379");
    await().atMost(PATIENCE).untilAsserted(() -> assertThat(ready(replica).getExitCode()).isZero());
    assertThat(say(replica, "GET", "k")).isEqualTo("v");

    // Its primary goes away (nothing listens on that port of a host this test made).
    say(replica, "REPLICAOF", ip(primary), "6390");
    await()
        .atMost(PATIENCE)
        .untilAsserted(
            () -> {
              ExecResult result = ready(replica);
              assertThat(result.getExitCode()).isEqualTo(1);
              assertThat(result.getStdout())
                  .contains("not ready: replica not in sync with its primary");
            });
  }

  @Test
  void aClusterNodeThatLostItsDataIsNotReadyUntilItIsBackInItsShard() throws Exception {
    GenericContainer<?> first = pod("cluster", "valkey-0", "valkey-0 valkey-1 valkey-2");
    GenericContainer<?> second = pod("cluster", "valkey-1", "valkey-0 valkey-1 valkey-2");
    // Fresh nodes of a first install: ready, the init Job runs after readiness.
    assertThat(ready(first).getExitCode()).isZero();
    assertThat(ready(second).getExitCode()).isZero();

    say(first, "CLUSTER", "ADDSLOTSRANGE", "0", "16383");
    say(first, "CLUSTER", "MEET", ip(second), "6379");
    String firstId = say(first, "CLUSTER", "MYID");
    await()
        .atMost(PATIENCE)
        .untilAsserted(() -> assertThat(say(second, "CLUSTER", "NODES")).contains(firstId));
    say(second, "CLUSTER", "REPLICATE", firstId);
    await()
        .atMost(PATIENCE)
        .untilAsserted(
            () -> {
              assertThat(ready(second).getExitCode()).isZero();
              assertThat(ready(first).getExitCode()).isZero();
            });
    say(first, "SET", "{a}k", "v");
    String oldId = say(second, "CLUSTER", "MYID");

    // The container restarts without persistence: no data, and it must not keep its node id.
    second.getDockerClient().restartContainerCmd(second.getContainerId()).exec();
    await().atMost(PATIENCE).untilAsserted(() -> assertThat(say(second, "PING")).isEqualTo("PONG"));
    assertThat(second.getLogs()).contains("no persistence: dropping nodes.conf");
    assertThat(say(second, "CLUSTER", "MYID")).isNotEqualTo(oldId);
    ExecResult returning = ready(second);
    assertThat(returning.getExitCode()).isEqualTo(1);
    assertThat(returning.getStdout())
        .contains("the cluster lists this pod under an earlier node id");

    // A pod that was never a member (a scale-up) is ready while alone.
    GenericContainer<?> added = pod("cluster", "valkey-2", "valkey-0 valkey-1 valkey-2");
    assertThat(ready(added).getExitCode()).isZero();

    // Back in its shard as a replica, and in sync: ready again.
    say(first, "CLUSTER", "MEET", ip(second), "6379");
    String newId = say(second, "CLUSTER", "MYID");
    await()
        .atMost(PATIENCE)
        .untilAsserted(() -> assertThat(say(second, "CLUSTER", "NODES")).contains(firstId));
    say(second, "CLUSTER", "REPLICATE", firstId);
    await().atMost(PATIENCE).untilAsserted(() -> assertThat(ready(second).getExitCode()).isZero());
    assertThat(say(first, "CLUSTER", "NODES")).contains(newId);
  }

  /** A started container of the valkey role, reachable by its pod name. */
  private GenericContainer<?> pod(String mode, String name, String peers) {
    Map<String, String> env = new HashMap<>(ValkeyContainers.passwords());
    env.put("VALKEY_MODE", mode);
    env.put("VALKEY_PEERS", peers);
    env.put("POD_NAME", name);
    env.put("VALKEY_ANNOUNCE_HOSTNAME", name);
    env.put("VALKEY_SENTINEL_PASSWORD", ValkeyContainers.SENTINEL_PASSWORD);
    GenericContainer<?> container =
        ValkeyContainers.valkey(env)
            .withNetwork(network)
            .withNetworkAliases(name)
            .withCreateContainerCmdModifier(
                cmd -> {
                  cmd.withHostName(name);
                  cmd.getHostConfig().withReadonlyRootfs(true);
                });
    container.start();
    started.add(container);
    return container;
  }

  private static ExecResult ready(GenericContainer<?> container) throws Exception {
    return container.execInContainer("valkey-entrypoint", "ready");
  }

  /** The container's address now (a restart may give it another one). */
  private static String ip(GenericContainer<?> container) {
    return container
        .getDockerClient()
        .inspectContainerCmd(container.getContainerId())
        .exec()
        .getNetworkSettings()
        .getNetworks()
        .values()
        .stream()
        .findFirst()
        .orElseThrow()
        .getIpAddress();
  }

  // Test-only: the password on the command line of valkey-cli inside a throwaway container.
  private static String say(GenericContainer<?> container, String... command) throws Exception {
    List<String> args =
        new ArrayList<>(
            List.of("valkey-cli", "--no-auth-warning", "--user", "admin", "-a", ADMIN_PASSWORD));
    args.addAll(List.of(command));
    ExecResult result = container.execInContainer(args.toArray(String[]::new));
    return result.getStdout().trim();
  }
}
