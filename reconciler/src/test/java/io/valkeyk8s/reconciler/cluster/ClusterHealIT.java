package io.valkeyk8s.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.valkeyk8s.testsupport.ValkeyProcess;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer.OrderAnnotation;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The long-running healer against a 3x1 cluster: labels by layout, a kill -9 of a primary (labels
 * follow the failover), and a restart of every node on new addresses (heals to ok).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(OrderAnnotation.class)
class ClusterHealIT {
  private static final int KEYS = 5_000;
  private static final Duration PATIENCE = Duration.ofSeconds(90);
  private ClusterHarness h;
  private Thread healer;
  private final AtomicReference<ClusterHealth> health = new AtomicReference<>();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @BeforeAll
  void start() throws Exception {
    h = new ClusterHarness();
    h.scaleStatefulSet(6);
    assertThat(h.run(h.init(3, 1))).isZero();
    h.writeKeys(KEYS);
    HealCommand command =
        new HealCommand(
            KubeApi.env(3, 1, h.valkey.port()),
            h.kube::platform,
            registry,
            health::set,
            () -> true);
    healer = new Thread(command::call, "cluster-healer");
    healer.start();
  }

  @AfterAll
  void stop() throws Exception {
    if (healer != null) {
      healer.interrupt();
      healer.join(30_000);
    }
    if (h != null) {
      h.close();
    }
  }

  private void awaitLabels(int ordinal, String role, String shard) {
    await("labels of valkey-" + ordinal)
        .atMost(PATIENCE)
        .pollInterval(Duration.ofMillis(250))
        .untilAsserted(
            () -> {
              Map<String, String> labels = h.kube.labels(ordinal);
              assertThat(labels)
                  .as("labels of valkey-" + ordinal)
                  .containsEntry(RoleLabeler.ROLE_LABEL, role)
                  .containsEntry(RoleLabeler.SHARD_LABEL, shard);
            });
  }

  @Test
  @Order(1)
  void labelsFollowTheShardLayoutWithEvents() {
    for (int shard = 0; shard < 3; shard++) {
      awaitLabels(shard * 2, RoleLabeler.PRIMARY, String.valueOf(shard));
      awaitLabels(shard * 2 + 1, RoleLabeler.REPLICA, String.valueOf(shard));
    }
    await()
        .atMost(PATIENCE)
        .until(() -> health.get() != null && health.get().ready() && health.get().alive());
    assertThat(registry.get("valkey_cluster_label_changes").counter().count())
        .isGreaterThanOrEqualTo(6);
    assertThat(h.kube.client().v1().events().inNamespace(KubeApi.NAMESPACE).list().getItems())
        .filteredOn(e -> "valkey-0".equals(e.getInvolvedObject().getName()))
        .extracting(Event::getReason)
        .contains("ClusterRoleChanged");
  }

  @Test
  @Order(2)
  void killedPrimaryFailsOverAndLabelsFollow() throws Exception {
    ValkeyProcess primary = h.node(2);
    primary.kill();

    awaitLabels(3, RoleLabeler.PRIMARY, "1");
    await("role label removed from the dead primary")
        .atMost(PATIENCE)
        .until(() -> !h.kube.labels(2).containsKey(RoleLabeler.ROLE_LABEL));
    assertThat(h.missingKeys(KEYS)).isZero();

    h.relaunch(primary, false);
    awaitLabels(2, RoleLabeler.REPLICA, "1");
    await().atMost(PATIENCE).untilAsserted(() -> h.assertClusterOk(3, 1));
  }

  @Test
  @Order(3)
  void everyNodeRestartedOnNewAddressesHeals() throws Exception {
    for (ValkeyProcess node : h.nodes) {
      node.stop();
    }
    for (ValkeyProcess node : h.nodes) {
      h.relaunch(node, true);
    }
    h.publishPods();

    await("cluster healed after every node moved")
        .atMost(PATIENCE)
        .pollInterval(Duration.ofSeconds(1))
        .untilAsserted(() -> h.assertClusterOk(3, 1));
    assertThat(h.missingKeys(KEYS)).isZero();
    assertThat(registry.get("valkey_cluster_meets").counter().count()).isPositive();
    for (int shard = 0; shard < 3; shard++) {
      int s = shard;
      await()
          .atMost(PATIENCE)
          .untilAsserted(
              () ->
                  assertThat(
                          h.kube.labels(s * 2).get(RoleLabeler.SHARD_LABEL)
                              + h.kube.labels(s * 2 + 1).get(RoleLabeler.SHARD_LABEL))
                      .isEqualTo(s + "" + s));
    }
  }

  @Test
  @Order(4)
  void podBackOnAnEmptyVolumeIsForgottenAndAdoptedAgain() throws Exception {
    int ordinal = RoleLabeler.REPLICA.equals(h.kube.labels(5).get(RoleLabeler.ROLE_LABEL)) ? 5 : 4;
    ValkeyProcess node = h.node(ordinal);
    String oldId;
    try (NodeClients clients = h.clients()) {
      oldId =
          clients.client("test", "valkey-" + ordinal, ClusterHarness.address(node)).myId("test");
    }
    node.stop();
    node.wipe();
    h.relaunch(node, true);
    h.publishPods();

    await("the lost node is forgotten and the fresh one replicates shard 2")
        .atMost(PATIENCE)
        .pollInterval(Duration.ofSeconds(1))
        .untilAsserted(
            () -> {
              h.assertClusterOk(3, 1);
              try (NodeClients clients = h.clients()) {
                assertThat(h.members(clients))
                    .allSatisfy(m -> assertThat(m.view().knows(oldId)).isFalse());
              }
            });
    awaitLabels(ordinal, RoleLabeler.REPLICA, "2");
    assertThat(registry.get("valkey_cluster_forgets").counter().count()).isPositive();
    assertThat(registry.get("valkey_cluster_adoptions").counter().count()).isPositive();
    assertThat(h.missingKeys(KEYS)).isZero();
  }
}
