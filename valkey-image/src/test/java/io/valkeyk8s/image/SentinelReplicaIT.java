package io.valkeyk8s.image;

import static io.valkeyk8s.image.ValkeyContainers.SENTINEL_PASSWORD;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

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
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.output.OutputFrame;
import org.testcontainers.containers.wait.strategy.Wait;

/**
 * Sentinel mode on a Docker network, one container per pod role: a primary, three Sentinels (the
 * image's sentinel role), then a new Valkey container that must come up as the replica of the
 * primary the Sentinels know, never as a second primary. Last, the prestop role hands the primary
 * over with SENTINEL FAILOVER COORDINATED (no reconciler runs here, so the fallback does).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SentinelReplicaIT {

  private static final String PEERS = "valkey-0 valkey-1 sentinel-0 sentinel-1 sentinel-2";
  private static final Duration PATIENCE = Duration.ofSeconds(60);

  private static Network network;
  private static GenericContainer<?> primary;
  private static GenericContainer<?> replica;
  private static final List<GenericContainer<?>> sentinels = new ArrayList<>();
  private static final StringBuffer replicaLog = new StringBuffer();

  @BeforeAll
  static void startPrimaryAndSentinels() {
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
    for (GenericContainer<?> container : sentinels) {
      container.stop();
    }
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
  void newPodComesUpAsReplicaOfThePrimaryTheSentinelsKnow() throws Exception {
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
    assertThat(valkeySays(primary, "ROLE")).startsWith("master");

    assertThat(valkeySays(primary, "SET", "replicated", "yes")).isEqualTo("OK");
    await()
        .atMost(PATIENCE)
        .untilAsserted(() -> assertThat(valkeySays(replica, "GET", "replicated")).isEqualTo("yes"));
    for (GenericContainer<?> sentinel : sentinels) {
      await()
          .atMost(PATIENCE)
          .untilAsserted(
              () ->
                  assertThat(sentinelSays(sentinel, "SENTINEL", "REPLICAS", "myprimary"))
                      .contains("valkey-1"));
    }
  }

  @Test
  @Order(2)
  void prestopOnThePrimaryHandsItOverToTheReplica() throws Exception {
    var prestop = primary.execInContainer("valkey-entrypoint", "prestop");
    System.out.print(prestop.getStderr()); // the handover's steps, for whoever reads the report

    assertThat(prestop.getExitCode()).isZero();
    assertThat(prestop.getStderr()).contains("started a coordinated failover");
    await()
        .atMost(PATIENCE)
        .untilAsserted(
            () -> {
              assertThat(valkeySays(replica, "ROLE")).startsWith("master");
              assertThat(valkeySays(primary, "ROLE")).startsWith("slave");
            });
    for (GenericContainer<?> sentinel : sentinels) {
      await()
          .atMost(PATIENCE)
          .untilAsserted(
              () ->
                  assertThat(
                          sentinelSays(
                              sentinel, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "myprimary"))
                      .startsWith("valkey-1\n"));
    }
    // Nothing acknowledged before the handover is lost.
    assertThat(valkeySays(replica, "GET", "replicated")).isEqualTo("yes");
  }

  @Test
  @Order(3)
  void prestopOnAReplicaDoesNothing() throws Exception {
    var prestop = primary.execInContainer("valkey-entrypoint", "prestop");
    assertThat(prestop.getExitCode()).isZero();
    assertThat(prestop.getStderr()).contains("not the primary");
  }

  @Test
  @Order(4)
  void laterPodWithoutAnyKnownPrimaryWaitsInsteadOfStartingAsPrimary() throws Exception {
    // Its own set (peers that do not exist): no Sentinel answers, no peer is primary, not ordinal
    // 0.
    try (GenericContainer<?> lonely =
        pod("valkey", "lonely-1")
            .withEnv("VALKEY_PEERS", "lonely-0 lonely-1")
            .waitingFor(
                Wait.forLogMessage(".*waiting for the Sentinels to name a primary.*", 1)
                    .withStartupTimeout(PATIENCE))) {
      lonely.start();
      var ping = lonely.execInContainer("valkey-cli", "-p", "6379", "PING");
      assertThat(ping.getStdout() + ping.getStderr())
          .contains("Connection refused")
          .doesNotContain("PONG");
      assertThat(lonely.getLogs()).doesNotContain("starting as primary");
    }
  }

  @Test
  @Order(5)
  void restartedPrimaryComesBackAsReplicaOfThePromotedOne() throws Exception {
    // After the handover valkey-1 is primary and valkey-0 its replica. The primary's
    // pod is replaced at once: whether the Sentinels still name it or have already
    // failed over when it asks, it must come back as a replica, never as primary.
    assertThat(valkeySays(replica, "ROLE")).startsWith("master");
    await()
        .atMost(PATIENCE)
        .untilAsserted(
            () ->
                assertThat(valkeySays(primary, "INFO", "replication"))
                    .contains("master_link_status:up"));
    replica.stop();
    StringBuffer log = new StringBuffer();
    replica =
        pod("valkey", "valkey-1")
            .withLogConsumer((OutputFrame frame) -> log.append(frame.getUtf8String()));
    replica.start();

    await()
        .atMost(PATIENCE)
        .untilAsserted(
            () -> {
              assertThat(valkeySays(primary, "ROLE")).startsWith("master");
              assertThat(valkeySays(replica, "INFO", "replication"))
                  .contains("role:slave", "master_host:valkey-0", "master_link_status:up");
            });
    assertThat(log).doesNotContain("starting as primary");
    assertThat(valkeySays(replica, "GET", "replicated")).isEqualTo("yes");
    // Which of the two start-up paths ran (already failed over, or waited for it), for the report.
    log.toString()
        .lines()
        .filter(line -> line.startsWith("valkey-entrypoint"))
        .forEach(System.out::println);
  }

  @Test
  @Order(6)
  void coordinatedFailoverMovesThePrimaryWithTheSentinelAclUser() throws Exception {
    // Valkey 9's SENTINEL FAILOVER <name> COORDINATED makes the primary hand over itself:
    // Sentinel sends it MULTI, CLIENT PAUSE WRITE, FAILOVER TO <replica>, EXEC as the
    // `sentinel` ACL user, which therefore needs +failover and +client|pause/unpause.
    assertThat(valkeySays(primary, "ROLE")).startsWith("master");
    // A Sentinel refuses (NOGOODSLAVE) until it has seen the restarted replica in sync.
    await()
        .atMost(PATIENCE)
        .until(
            () ->
                sentinelSays(sentinels.get(0), "SENTINEL", "FAILOVER", "myprimary", "COORDINATED")
                    .equals("OK"));
    await()
        .atMost(PATIENCE)
        .untilAsserted(
            () -> {
              assertThat(valkeySays(replica, "ROLE")).startsWith("master");
              assertThat(valkeySays(primary, "ROLE")).startsWith("slave");
            });
    for (GenericContainer<?> sentinel : sentinels) {
      await()
          .atMost(PATIENCE)
          .untilAsserted(
              () ->
                  assertThat(
                          sentinelSays(
                              sentinel, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", "myprimary"))
                      .startsWith("valkey-1\n"));
    }
    assertThat(valkeySays(replica, "GET", "replicated")).isEqualTo("yes");
  }

  /** A container of one pod role, reachable on the network by its pod name. */
  private static GenericContainer<?> pod(String role, String name) {
    Map<String, String> env = new HashMap<>(ValkeyContainers.passwords());
    env.put("VALKEY_SENTINEL_PASSWORD", SENTINEL_PASSWORD);
    env.put("VALKEY_MODE", "sentinel");
    env.put("VALKEY_PEERS", PEERS);
    env.put("POD_NAME", name);
    env.put("VALKEY_ANNOUNCE_HOSTNAME", name);
    return ValkeyContainers.container(role, env, null)
        .withNetwork(network)
        .withNetworkAliases(name)
        .withCreateContainerCmdModifier(
            cmd -> {
              cmd.withHostName(name);
              cmd.getHostConfig().withReadonlyRootfs(true);
            });
  }

  private static String valkeySays(GenericContainer<?> container, String... command)
      throws Exception {
    return ValkeyContainers.adminCli(container, command);
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
    args.addAll(auth);
    args.addAll(List.of(command));
    return container.execInContainer(args.toArray(String[]::new)).getStdout().trim();
  }
}
