package io.valkeyk8s.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.valkeyk8s.reconciler.cluster.heal.HealPass;
import io.valkeyk8s.reconciler.kube.Controller;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import io.valkeyk8s.testsupport.ValkeyProcess;
import java.time.Duration;
import java.util.Map;
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
  private KubernetesClient healerClient;
  private Controller healer;

  @BeforeAll
  void start() throws Exception {
    h = new ClusterHarness();
    h.scaleStatefulSet(6);
    assertThat(h.run(h.init(3, 1))).isZero();
    h.writeKeys(KEYS);
    healerClient = h.kube.newClient();
    healer = h.healer(healerClient);
    healer.start();
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

  private void awaitLabels(int ordinal, String role, String shard) {
    await("labels of valkey-" + ordinal)
        .atMost(PATIENCE)
        .pollInterval(Duration.ofMillis(250))
        .untilAsserted(
            () -> {
              Map<String, String> labels = h.kube.labels(ordinal);
              assertThat(labels)
                  .as("labels of valkey-" + ordinal)
                  .containsEntry(HealPass.ROLE_LABEL, role)
                  .containsEntry(HealPass.SHARD_LABEL, shard);
            });
  }

  @Test
  @Order(1)
  void labelsFollowTheShardLayoutWithEvents() {
    for (int shard = 0; shard < 3; shard++) {
      awaitLabels(shard * 2, HealPass.PRIMARY, String.valueOf(shard));
      awaitLabels(shard * 2 + 1, HealPass.REPLICA, String.valueOf(shard));
    }
    await().atMost(PATIENCE).until(() -> healer.health().isReady() && healer.health().isAlive());
    assertThat(healer.registry().get("valkey_cluster_label_changes").counter().count())
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

    awaitLabels(3, HealPass.PRIMARY, "1");
    await("role label removed from the dead primary")
        .atMost(PATIENCE)
        .until(() -> !h.kube.labels(2).containsKey(HealPass.ROLE_LABEL));
    assertThat(h.missingKeys(KEYS)).isZero();

    h.relaunch(primary, false);
    awaitLabels(2, HealPass.REPLICA, "1");
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
    assertThat(healer.registry().get("valkey_cluster_meets").counter().count()).isPositive();
    for (int shard = 0; shard < 3; shard++) {
      int s = shard;
      await()
          .atMost(PATIENCE)
          .untilAsserted(
              () ->
                  assertThat(
                          h.kube.labels(s * 2).get(HealPass.SHARD_LABEL)
                              + h.kube.labels(s * 2 + 1).get(HealPass.SHARD_LABEL))
                      .isEqualTo(s + "" + s));
    }
  }

  @Test
  @Order(4)
  void podBackOnAnEmptyVolumeIsForgottenAndAdoptedAgain() throws Exception {
    int ordinal = HealPass.REPLICA.equals(h.kube.labels(5).get(HealPass.ROLE_LABEL)) ? 5 : 4;
    ValkeyProcess node = h.node(ordinal);
    String oldId;
    try (NodeClients clients = h.clients()) {
      oldId = clients.at(ClusterHarness.address(node), "valkey-" + ordinal).step("test").myId();
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
    awaitLabels(ordinal, HealPass.REPLICA, "2");
    assertThat(healer.registry().get("valkey_cluster_forgets").counter().count()).isPositive();
    assertThat(healer.registry().get("valkey_cluster_adoptions").counter().count()).isPositive();
    assertThat(h.missingKeys(KEYS)).isZero();
  }
}
