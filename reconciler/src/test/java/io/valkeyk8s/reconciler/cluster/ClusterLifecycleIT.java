package io.valkeyk8s.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.valkeyk8s.reconciler.cluster.command.ScaleDownCommand;
import io.valkeyk8s.reconciler.cluster.command.ScaleUpCommand;
import io.valkeyk8s.reconciler.cluster.topology.PodNode;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer.OrderAnnotation;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * One cluster through its life: init 3x1, 50 000 keys, scale-up to 4 (killed after its first atomic
 * slot migration job started, rerun) and 5 masters, scale-down to 3. After every step all keys read
 * back and every node says ok.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(OrderAnnotation.class)
class ClusterLifecycleIT {
  private static final int KEYS = 50_000;
  private ClusterHarness h;

  /** Stands for the reconciler process being killed: nothing after it runs, no cleanup. */
  static final class SimulatedKill extends RuntimeException {
    SimulatedKill() {
      super("simulated kill of the reconciler");
    }
  }

  @BeforeAll
  void start() throws Exception {
    h = new ClusterHarness();
  }

  @AfterAll
  void stop() throws Exception {
    if (h != null) {
      h.close();
    }
  }

  @Test
  @Order(1)
  void initFormsThreeShardsWithOneReplicaEachAndIsRerunnable() throws Exception {
    h.scaleStatefulSet(6);
    assertThat(h.run(h.init(3, 1))).isZero();
    h.assertClusterOk(3, 1);
    try (NodeClients clients = h.clients()) {
      // Layout: shard k's lowest ordinal is its primary, the next pod its replica.
      List<PodNode> members = h.members(clients);
      for (int shard = 0; shard < 3; shard++) {
        PodNode primary = members.get(shard * 2);
        PodNode replica = members.get(shard * 2 + 1);
        assertThat(primary.slotCount()).as("slots of pod " + primary.ordinal()).isGreaterThan(5000);
        assertThat(replica.view().myself().masterId()).isEqualTo(primary.id());
      }
    }

    assertThat(h.run(h.init(3, 1))).as("rerun of init on a formed cluster").isZero();
    h.assertClusterOk(3, 1);

    h.writeKeys(KEYS);
    assertThat(h.missingKeys(KEYS)).isZero();
  }

  @Test
  @Order(2)
  void scaleUpKilledHalfWayFinishesOnRerun() throws Exception {
    h.scaleStatefulSet(8);
    ScaleUpCommand killed = h.scaleUp(4, 1);
    // Killed right after its first CLUSTER MIGRATESLOTS: that job goes on in the servers, the
    // other sources' jobs were never started.
    killed.migrationHook(
        (slot, keys) -> {
          throw new SimulatedKill();
        });
    assertThat(h.run(killed)).isEqualTo(1);
    assertThat(killed.lastError()).contains("simulated kill");

    try (NodeClients clients = h.clients()) {
      List<PodNode> members = h.members(clients);
      assertThat(members)
          .as("the killed run's job, running or done, on its source")
          .anySatisfy(
              m ->
                  assertThat(m.client().slotMigrations())
                      .anySatisfy(j -> assertThat(j).containsEntry("operation", "EXPORT")));
      for (PodNode m : members) {
        assertThat(m.view().myself().migrating()).as("no slot left open").isEmpty();
        assertThat(m.view().myself().importing()).as("no slot left open").isEmpty();
      }
    }
    // The job goes on in the servers. A read that meets a slot at the moment of its handover
    // can fail (a clean-clone run once: 172 of 50 000 right after the kill, errors not kept):
    // printed for whoever reads the report. What must not happen is a key that stays out of reach.
    List<ClusterHarness.MissingKey> during = h.missingOutside(KEYS, Set.of());
    if (!during.isEmpty()) {
      System.out.println("read while the job runs: " + h.describe(during, Set.of()));
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofSeconds(1))
        .untilAsserted(
            () -> assertThat(h.missingKeys(KEYS)).as("keys out of reach after the kill").isZero());

    ScaleUpCommand rerun = h.scaleUp(4, 1);
    assertThat(h.run(rerun)).as(String.valueOf(rerun.lastError())).isZero();
    h.assertClusterOk(4, 1);
    assertThat(h.missingKeys(KEYS)).isZero();
  }

  @Test
  @Order(3)
  void scaleUpToFiveMasters() throws Exception {
    h.scaleStatefulSet(10);
    ScaleUpCommand up = h.scaleUp(5, 1);
    assertThat(h.run(up)).as(String.valueOf(up.lastError())).isZero();
    h.assertClusterOk(5, 1);
    assertThat(h.missingKeys(KEYS)).isZero();
  }

  @Test
  @Order(4)
  void scaleDownBackToThreeMasters() throws Exception {
    ScaleDownCommand down = h.scaleDown(3, 1);
    assertThat(h.run(down)).as(String.valueOf(down.lastError())).isZero();
    h.shrinkStatefulSet(6);
    h.assertClusterOk(3, 1);
    assertThat(h.missingKeys(KEYS)).isZero();

    ScaleDownCommand rerun = h.scaleDown(3, 1);
    assertThat(h.run(rerun)).as("rerun after the pods are gone: " + rerun.lastError()).isZero();
    h.assertClusterOk(3, 1);
  }
}
