package io.valkeyk8s.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.valkeyk8s.reconciler.cluster.command.InitCommand;
import io.valkeyk8s.reconciler.cluster.command.ScaleDownCommand;
import io.valkeyk8s.reconciler.cluster.command.ScaleUpCommand;
import io.valkeyk8s.reconciler.cluster.heal.HealPass;
import io.valkeyk8s.reconciler.cluster.topology.ClusterView;
import io.valkeyk8s.reconciler.cluster.topology.PodNode;
import io.valkeyk8s.reconciler.kube.Controller;
import io.valkeyk8s.reconciler.valkey.Credentials;
import io.valkeyk8s.reconciler.valkey.NodeClient;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import io.valkeyk8s.testsupport.AclUsers;
import io.valkeyk8s.testsupport.ValkeyProcess;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer.OrderAnnotation;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The cluster as the chart runs it: every node with the users of config/users.acl (default off),
 * replicas syncing as the replication user, the reconciler as admin, the application as client.
 * Init 3x1, 10 000 keys, scale-up to 4 (atomic slot migration: the source logs in to the target as
 * the replication user), scale-down to 3 through a CLUSTER FAILOVER of a departing primary, then a
 * kill -9 of a primary under the healer. Replication links must be up after every step: a replica
 * that cannot authenticate still shows in CLUSTER NODES, so the cluster checks alone would not
 * notice.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(OrderAnnotation.class)
class ClusterAuthIT {
  private static final int KEYS = 10_000;
  private static final Duration PATIENCE = Duration.ofSeconds(90);
  private ClusterHarness h;
  private KubernetesClient healerClient;
  private Controller healer;

  @BeforeAll
  void start() throws Exception {
    h = new ClusterHarness(AclUsers.random());
  }

  @AfterAll
  void stop() throws Exception {
    if (healer != null) {
      healer.close();
      healerClient.close();
    }
    if (h != null) {
      h.close();
    }
  }

  /** Every replica has its link to its primary up, so it authenticated as the replication user. */
  private void awaitReplicationLinksUp() {
    await("replication links up")
        .atMost(PATIENCE)
        .pollInterval(Duration.ofMillis(500))
        .untilAsserted(
            () -> {
              try (NodeClients clients = h.clients()) {
                for (PodNode m : h.members(clients)) {
                  if (m.view().myself().isReplica()) {
                    Map<String, String> info = m.client().info("replication");
                    assertThat(info.get("master_link_status"))
                        .as("link of replica " + m.describe())
                        .isEqualTo("up");
                  }
                }
              }
            });
  }

  private void awaitLabels(int ordinal, String role, String shard) {
    await("labels of valkey-" + ordinal)
        .atMost(PATIENCE)
        .pollInterval(Duration.ofMillis(250))
        .untilAsserted(
            () ->
                assertThat(h.kube.labels(ordinal))
                    .as("labels of valkey-" + ordinal)
                    .containsEntry(HealPass.ROLE_LABEL, role)
                    .containsEntry(HealPass.SHARD_LABEL, shard));
  }

  @Test
  @Order(1)
  void initWithAclUsersAndTheDefaultUserOff() throws Exception {
    h.scaleStatefulSet(6);
    try (NodeClients anonymous =
        NodeClients.withOwnThreads(2, Credentials.NONE, Duration.ofSeconds(10), true)) {
      assertThatThrownBy(
              () -> anonymous.at(h.address(0), "valkey-0").step("test: anonymous").ping())
          .as("the default user is off, as in config/users.acl")
          .rootCause()
          .hasMessageContaining("NOAUTH");
    }

    InitCommand init = h.init(3, 1);
    assertThat(h.run(init)).as(String.valueOf(init.lastError())).isZero();
    h.assertClusterOk(3, 1);
    awaitReplicationLinksUp();

    h.writeKeys(KEYS);
    assertThat(h.missingKeys(KEYS)).isZero();
  }

  @Test
  @Order(2)
  void scaleUpMigratesKeysBetweenAuthenticatedNodes() throws Exception {
    h.scaleStatefulSet(8);
    ScaleUpCommand up = h.scaleUp(4, 1);
    AtomicLong jobs = new AtomicLong();
    up.migrationHook((slot, keys) -> jobs.incrementAndGet());
    assertThat(h.run(up)).as(String.valueOf(up.lastError())).isZero();
    assertThat(jobs.get()).as("atomic slot migration jobs started").isPositive();
    // The sources logged in to the new primary as the replication user (masteruser) and it ran
    // the slots' contents as that user: what config/users.acl must allow.
    try (NodeClients clients = h.clients()) {
      NodeClient pod6 = clients.at(h.address(6), "valkey-6").step("test");
      long keysThere = pod6.call(c -> c.dbsize());
      assertThat(keysThere).as("keys on the new primary").isPositive();
      assertThat(pod6.slotMigrations())
          .as("import jobs on the new primary")
          .isNotEmpty()
          .allSatisfy(j -> assertThat(j).containsEntry("state", "success"));
    }
    h.assertClusterOk(4, 1);
    awaitReplicationLinksUp();
    assertThat(h.missingKeys(KEYS)).isZero();
  }

  @Test
  @Order(3)
  void scaleDownHandsADepartingPrimaryOverWithFailoverAndMigratesBack() {
    // As in ClusterScaleDownFailoverIT: pod 5 (staying) replicates pod 6 (departing primary), so
    // the
    // scale-down needs a CLUSTER FAILOVER and a replication hand-over between authenticated nodes.
    try (NodeClients clients = h.clients()) {
      NodeClient pod5 = clients.at(h.address(5), "valkey-5").step("test");
      String pod6Id = clients.at(h.address(6), "valkey-6").step("test").myId();
      pod5.replicate(pod6Id);
      await()
          .atMost(PATIENCE)
          .until(
              () ->
                  "up".equals(pod5.info("replication").get("master_link_status"))
                      && pod6Id.equals(ClusterView.read(pod5).myself().masterId()));
    }

    ScaleDownCommand down = h.scaleDown(3, 1);
    assertThat(h.run(down)).as(String.valueOf(down.lastError())).isZero();
    h.shrinkStatefulSet(6);
    h.assertClusterOk(3, 1);
    awaitReplicationLinksUp();
    assertThat(h.missingKeys(KEYS)).isZero();
  }

  @Test
  @Order(4)
  void killedPrimaryFailsOverAndLabelsFollowUnderTheHealer() throws Exception {
    healerClient = h.kube.newClient();
    healer = h.healer(healerClient);
    healer.start();
    awaitLabels(2, HealPass.PRIMARY, "1");
    awaitLabels(3, HealPass.REPLICA, "1");
    await().atMost(PATIENCE).until(() -> healer.health().isReady());

    ValkeyProcess primary = h.node(2);
    primary.kill();
    awaitLabels(3, HealPass.PRIMARY, "1");
    await("role label removed from the dead primary")
        .atMost(PATIENCE)
        .until(() -> !h.kube.labels(2).containsKey(HealPass.ROLE_LABEL));
    assertThat(h.missingKeys(KEYS)).isZero();

    h.relaunch(primary, false);
    awaitLabels(2, HealPass.REPLICA, "1");
    await().atMost(PATIENCE).untilAsserted(() -> h.assertClusterOk(3, 1));
    awaitReplicationLinksUp();
    assertThat(h.missingKeys(KEYS)).isZero();
  }
}
