package io.valkeyk8s.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.valkeyk8s.reconciler.cluster.heal.HealPass;
import io.valkeyk8s.reconciler.cluster.topology.ClusterView;
import io.valkeyk8s.reconciler.kube.Controller;
import io.valkeyk8s.reconciler.valkey.NodeClient;
import io.valkeyk8s.reconciler.valkey.NodeClients;
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
 * follow the failover), a restart of every node on new addresses (heals to ok), a replica's and a
 * primary's pod back on an empty volume (each rejoins its shard as a replica; its earlier id is
 * forgotten only once the new node is in sync), and every pod lost at once (formed anew, empty).
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
    String primaryId;
    try (NodeClients clients = h.clients()) {
      primaryId =
          ClusterView.read(clients.at(h.address(ordinal), "valkey-" + ordinal).step("test"))
              .myself()
              .masterId();
    }
    String newId = loseDataAndComeBack(ordinal);

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
    assertThat(replicaOf(ordinal))
        .as("the new node replicates its old primary")
        .isEqualTo(primaryId);
    watcher.join(Duration.ofSeconds(10));
    assertThat(forgottenBeforeSync.get())
        .as("the earlier id was forgotten while the new node " + newId + " was not in sync yet")
        .isNull();
    assertThat(healer.registry().get("valkey_cluster_forgets").counter().count()).isPositive();
    assertThat(healer.registry().get("valkey_cluster_adoptions").counter().count()).isPositive();
    assertThat(h.missingKeys(KEYS)).isZero();
  }

  @Test
  @Order(5)
  void primaryBackWithoutItsDataRejoinsItsShardAsAReplica() throws Exception {
    int ordinal = HealPass.PRIMARY.equals(h.kube.labels(0).get(HealPass.ROLE_LABEL)) ? 0 : 1;
    int partner = 1 - ordinal;
    String partnerId;
    try (NodeClients clients = h.clients()) {
      partnerId = clients.at(h.address(partner), "valkey-" + partner).step("test").myId();
    }
    loseDataAndComeBack(ordinal);

    await("the partner took shard 0 over and the new node replicates it")
        .atMost(PATIENCE)
        .pollInterval(Duration.ofSeconds(1))
        .untilAsserted(
            () -> {
              h.assertClusterOk(3, 1);
              assertThat(replicaOf(ordinal)).isEqualTo(partnerId);
              try (NodeClients clients = h.clients()) {
                assertThat(h.members(clients))
                    .allSatisfy(m -> assertThat(m.view().knows(oldId)).isFalse());
              }
            });
    awaitLabels(partner, HealPass.PRIMARY, "0");
    awaitLabels(ordinal, HealPass.REPLICA, "0");
    watcher.join(Duration.ofSeconds(10));
    assertThat(forgottenBeforeSync.get()).isNull();
    assertThat(h.missingKeys(KEYS)).isZero();
  }

  @Test
  @Order(6)
  void everyPodLostAtOnceIsFormedAnewEmpty() throws Exception {
    for (ValkeyProcess node : h.nodes) {
      node.stop();
      node.wipe();
    }
    for (ValkeyProcess node : h.nodes) {
      h.relaunch(node, true);
    }
    h.publishPods();

    // The data is gone (that is what persistence is for); the service comes back, empty.
    await("a new cluster formed by the healer")
        .atMost(PATIENCE)
        .pollInterval(Duration.ofSeconds(1))
        .untilAsserted(() -> h.assertClusterOk(3, 1));
    // Counted once Formation.form returns, which can be a moment after the cluster looks ok.
    await("the re-formation counted")
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(healer.registry().get("valkey_cluster_reforms").counter().count())
                    .isEqualTo(1));
    assertThat(h.missingKeys(KEYS)).isEqualTo(KEYS);
    h.writeKeys(KEYS);
    assertThat(h.missingKeys(KEYS)).isZero();
  }

  private String oldId;
  private final AtomicReference<String> forgottenBeforeSync = new AtomicReference<>();

  /**
   * Stops the pod's node, wipes its data and starts it on a new address (a pod recreated on an
   * empty volume); returns the new node id. Until the earlier id is forgotten everywhere, a watcher
   * checks every 100 ms that it is not forgotten while the new node is not a replica in sync (what
   * readiness relies on), and records the first time it was.
   */
  private String loseDataAndComeBack(int ordinal) throws Exception {
    ValkeyProcess node = h.node(ordinal);
    try (NodeClients clients = h.clients()) {
      oldId = clients.at(ClusterHarness.address(node), "valkey-" + ordinal).step("test").myId();
    }
    node.stop();
    node.wipe();
    h.relaunch(node, true);
    h.publishPods();
    String newId;
    try (NodeClients clients = h.clients()) {
      newId = clients.at(ClusterHarness.address(node), "valkey-" + ordinal).step("test").myId();
    }
    forgottenBeforeSync.set(null);
    watcher =
        Thread.ofVirtual()
            .start(
                () -> {
                  long deadline = System.nanoTime() + PATIENCE.toNanos();
                  try (NodeClients clients = h.clients()) {
                    while (System.nanoTime() < deadline) {
                      boolean known = false;
                      for (int i = 0; i < h.nodes.size(); i++) {
                        if (i != ordinal) {
                          known |=
                              ClusterView.read(clients.at(h.address(i), "valkey-" + i).step("w"))
                                  .knows(oldId);
                        }
                      }
                      if (!known) {
                        NodeClient fresh = clients.at(h.address(ordinal), "new").step("w");
                        Map<String, String> repl = fresh.info("replication");
                        if (!"up".equals(repl.get("master_link_status"))
                            || !"0".equals(repl.get("master_sync_in_progress"))) {
                          forgottenBeforeSync.compareAndSet(null, repl.toString());
                        }
                        return;
                      }
                      Thread.sleep(100);
                    }
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  } catch (RuntimeException e) {
                    forgottenBeforeSync.compareAndSet(null, "watcher failed: " + e);
                  }
                });
    return newId;
  }

  private Thread watcher;

  /** The master id the pod's node replicates (null for a master). */
  private String replicaOf(int ordinal) {
    try (NodeClients clients = h.clients()) {
      return ClusterView.read(clients.at(h.address(ordinal), "valkey-" + ordinal).step("test"))
          .myself()
          .masterId();
    }
  }
}
