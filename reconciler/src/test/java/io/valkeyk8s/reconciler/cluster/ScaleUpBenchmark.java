package io.valkeyk8s.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.valkeyk8s.reconciler.cluster.command.InitCommand;
import io.valkeyk8s.reconciler.cluster.command.ScaleUpCommand;
import io.valkeyk8s.reconciler.cluster.topology.ClusterOps;
import io.valkeyk8s.reconciler.cluster.topology.ClusterPod;
import io.valkeyk8s.reconciler.cluster.topology.MigrationHook;
import io.valkeyk8s.reconciler.cluster.topology.PodNode;
import io.valkeyk8s.reconciler.cluster.topology.ShardLayout;
import io.valkeyk8s.reconciler.cluster.topology.SlotMigrator;
import io.valkeyk8s.reconciler.cluster.topology.Snapshot;
import io.valkeyk8s.reconciler.valkey.Credentials;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import io.valkeyk8s.testsupport.LoopbackValkey;
import io.valkeyk8s.testsupport.ValkeyProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * Benchmark, not part of CI: scale 3 to 4 masters (1 replica each) holding 100 000 keys, with this
 * reconciler and with {@code valkey-cli --cluster add-node} + {@code rebalance
 * --cluster-use-empty-masters} on an identical cluster in the same run. Prints times, keys/s and
 * the ratio; asserts no key is lost.
 *
 * <p>Run: {@code VALKEY_CLUSTER_BENCHMARK=1 ./mvnw -B -ntp -pl reconciler -am verify
 * -Dit.test=ScaleUpBenchmark}
 */
@EnabledIfEnvironmentVariable(named = "VALKEY_CLUSTER_BENCHMARK", matches = "1")
class ScaleUpBenchmark {
  private static final int KEYS =
      Integer.parseInt(System.getenv().getOrDefault("BENCHMARK_KEYS", "100000"));
  private static final Duration TIMEOUT = Duration.ofMinutes(10);

  record Result(String tool, double joinSeconds, double moveSeconds, long keysMoved, int lost) {
    double keysPerSecond() {
      return keysMoved / moveSeconds;
    }
  }

  @Test
  void scaleThreeToFourMasters() throws Exception {
    Result ours = run("reconciler", this::scaleWithReconciler);
    Result cli = run("valkey-cli", this::scaleWithValkeyCli);
    System.out.printf("%n=== scale 3 -> 4 masters (1 replica each), %d keys ===%n", KEYS);
    for (Result r : List.of(ours, cli)) {
      System.out.printf(
          "%-11s join+replica %6.2f s | move slots %7.2f s | %7d keys moved | %9.0f keys/s | lost %d%n",
          r.tool(), r.joinSeconds(), r.moveSeconds(), r.keysMoved(), r.keysPerSecond(), r.lost());
    }
    System.out.printf(
        "ratio valkey-cli/reconciler: move %.2fx, total %.2fx%n%n",
        cli.moveSeconds() / ours.moveSeconds(),
        (cli.moveSeconds() + cli.joinSeconds()) / (ours.moveSeconds() + ours.joinSeconds()));
    assertThat(ours.lost()).isZero();
    assertThat(cli.lost()).isZero();
  }

  interface Scaler {
    Result scale(List<ValkeyProcess> nodes, NodeClients clients, Supplier<List<ClusterPod>> pods)
        throws Exception;
  }

  private Result run(String name, Scaler scaler) throws Exception {
    try (LoopbackValkey valkey = LoopbackValkey.withoutAuth();
        NodeClients clients =
            NodeClients.withOwnThreads(2, Credentials.NONE, Duration.ofSeconds(60), true)) {
      List<ValkeyProcess> nodes = new ArrayList<>();
      ClusterHarness.startUpTo(valkey, nodes, 6);
      Supplier<List<ClusterPod>> pods =
          () -> {
            List<ClusterPod> out = new ArrayList<>();
            for (int i = 0; i < nodes.size(); i++) {
              out.add(ClusterHarness.pod(i, ClusterHarness.address(nodes.get(i))));
            }
            return out;
          };
      new InitCommand(Map.of(), () -> null)
          .execute(ops(pods, clients, 3, new SlotMigrator(MigrationHook.NONE)));
      ClusterHarness.writeKeys(valkey, nodes, KEYS);
      ClusterHarness.startUpTo(valkey, nodes, 8);
      Result r = scaler.scale(nodes, clients, pods);
      ops(pods, clients, 4, null).waitHealthy("benchmark: cluster ok", pods.get());
      return new Result(
          r.tool(),
          r.joinSeconds(),
          r.moveSeconds(),
          r.keysMoved(),
          ClusterHarness.missingKeys(valkey, nodes, KEYS));
    }
  }

  private static ClusterOps ops(
      Supplier<List<ClusterPod>> pods, NodeClients clients, int masters, SlotMigrator migrator) {
    return new ClusterOps(pods, clients, new ShardLayout(masters, 1), migrator, TIMEOUT);
  }

  /** The same steps as {@link ScaleUpCommand}, timed in two phases. */
  private Result scaleWithReconciler(
      List<ValkeyProcess> nodes, NodeClients clients, Supplier<List<ClusterPod>> pods) {
    SlotMigrator migrator = new SlotMigrator(MigrationHook.NONE);
    ClusterOps ops = ops(pods, clients, 4, migrator);
    long t0 = System.nanoTime();
    Snapshot snapshot = ops.snapshotOfLayout("read");
    ops.join("join", snapshot.members());
    ops.waitHealthy("ok", pods.get());
    Snapshot joined = ops.snapshotOfLayout("read");
    List<PodNode> masters = ops.designatedMasters(joined);
    ops.attachReplicas("attach", joined, masters);
    long t1 = System.nanoTime();
    ops.balance("balance", masters);
    long t2 = System.nanoTime();
    return new Result("reconciler", (t1 - t0) / 1e9, (t2 - t1) / 1e9, migrator.keysMoved(), 0);
  }

  /**
   * valkey-cli from the Debian package: add-node master, add-node replica, rebalance with empty
   * masters.
   */
  private Result scaleWithValkeyCli(
      List<ValkeyProcess> nodes, NodeClients clients, Supplier<List<ClusterPod>> pods)
      throws Exception {
    String existing = ClusterHarness.address(nodes.get(0)).toString();
    String newMaster = ClusterHarness.address(nodes.get(6)).toString();
    ClusterOps ops = ops(pods, clients, 4, null);
    long t0 = System.nanoTime();
    cli("--cluster", "add-node", newMaster, existing);
    ops.waitHealthy("ok", pods.get().stream().filter(p -> p.ordinal() <= 6).toList());
    String masterId =
        clients.at(ClusterHarness.address(nodes.get(6)), "valkey-6").step("id").myId();
    cli(
        "--cluster",
        "add-node",
        ClusterHarness.address(nodes.get(7)).toString(),
        existing,
        "--cluster-slave",
        "--cluster-master-id",
        masterId);
    ops.waitHealthy("ok", pods.get());
    ops.waitReplicasInSync("sync");
    long t1 = System.nanoTime();
    cli("--cluster", "rebalance", existing, "--cluster-use-empty-masters");
    long t2 = System.nanoTime();
    long moved =
        clients
            .at(ClusterHarness.address(nodes.get(6)), "valkey-6")
            .step("dbsize")
            .call(c -> c.dbsize());
    return new Result("valkey-cli", (t1 - t0) / 1e9, (t2 - t1) / 1e9, moved, 0);
  }

  private static void cli(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("/usr/bin/valkey-cli"));
    cmd.addAll(List.of(args));
    Path log = Files.createTempFile("valkey-cli", ".log");
    try {
      Process p =
          new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      int exit = p.waitFor();
      assertThat(exit).as(String.join(" ", cmd) + "\n" + Files.readString(log)).isZero();
    } finally {
      Files.deleteIfExists(log);
    }
  }
}
