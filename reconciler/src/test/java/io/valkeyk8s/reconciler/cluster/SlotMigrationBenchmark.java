package io.valkeyk8s.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisAdvancedClusterCommands;
import io.valkeyk8s.reconciler.cluster.command.InitCommand;
import io.valkeyk8s.reconciler.cluster.topology.ClusterNode;
import io.valkeyk8s.reconciler.cluster.topology.ClusterOps;
import io.valkeyk8s.reconciler.cluster.topology.ClusterPod;
import io.valkeyk8s.reconciler.cluster.topology.ClusterView;
import io.valkeyk8s.reconciler.cluster.topology.MigrationHook;
import io.valkeyk8s.reconciler.cluster.topology.PodNode;
import io.valkeyk8s.reconciler.cluster.topology.ShardLayout;
import io.valkeyk8s.reconciler.cluster.topology.SlotBalancer;
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
import java.util.Arrays;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * Benchmark, not part of CI: scale 3 -> 4 -> 3 masters (1 replica each) on identical clusters in
 * one run, with atomic slot migration (what the reconciler does), the previous key-by-key path
 * (SETSLOT + MIGRATE batches of 500, 8 slots in flight) and {@code valkey-cli --cluster rebalance},
 * while a writer sets a key every millisecond. Prints per step: seconds, keys moved, keys/s, failed
 * writes and the p99 write latency during the move; asserts no key is lost.
 *
 * <p>Run: {@code VALKEY_CLUSTER_BENCHMARK=1 ./mvnw -B -ntp -pl reconciler verify
 * -Dit.test=SlotMigrationBenchmark [-Dbenchmark.keys=100000,1000000]
 * [-Dbenchmark.methods=atomic,key-by-key,valkey-cli]}
 */
@EnabledIfEnvironmentVariable(named = "VALKEY_CLUSTER_BENCHMARK", matches = "1")
class SlotMigrationBenchmark {
  private static final List<Integer> KEYS =
      Arrays.stream(System.getProperty("benchmark.keys", "100000,1000000").split(","))
          .map(String::trim)
          .map(Integer::parseInt)
          .toList();
  private static final Duration TIMEOUT = Duration.ofMinutes(20);
  private static final List<String> METHODS =
      Arrays.stream(
              System.getProperty("benchmark.methods", "atomic,key-by-key,valkey-cli").split(","))
          .map(String::trim)
          .toList();

  record Step(
      int keys,
      String method,
      String step,
      double seconds,
      long keysMoved,
      int failedWrites,
      double p99Ms,
      int lost,
      int slotsOnNewMaster) {
    double keysPerSecond() {
      return keysMoved / seconds;
    }
  }

  @Test
  void scaleThreeToFourToThreeMasters() throws Exception {
    List<Step> steps = new ArrayList<>();
    for (int keys : KEYS) {
      for (String method : METHODS) {
        for (Step step : run(keys, method)) {
          System.out.printf("step done: %s%n", step);
          steps.add(step);
        }
      }
    }
    System.out.printf("%n=== scale 3 -> 4 -> 3 masters (1 replica each), writer every 1 ms ===%n");
    System.out.printf(
        "| keys | method | step | seconds | keys moved | keys/s | failed writes | p99 write (ms) |"
            + " lost | slots on the new master after |%n|---|---|---|---|---|---|---|---|---|---|%n");
    for (Step s : steps) {
      System.out.printf(
          "| %d | %s | %s | %.2f | %d | %.0f | %d | %.1f | %d | %d |%n",
          s.keys(),
          s.method(),
          s.step(),
          s.seconds(),
          s.keysMoved(),
          s.keysPerSecond(),
          s.failedWrites(),
          s.p99Ms(),
          s.lost(),
          s.slotsOnNewMaster());
    }
    for (int keys : KEYS) {
      for (String step : List.of("3 -> 4", "4 -> 3")) {
        double atomic = seconds(steps, keys, "atomic", step);
        System.out.printf(
            "%d keys, %s: valkey-cli/atomic %.1fx, key-by-key/atomic %.1fx%n",
            keys,
            step,
            seconds(steps, keys, "valkey-cli", step) / atomic,
            seconds(steps, keys, "key-by-key", step) / atomic);
      }
    }
    assertThat(steps).allSatisfy(s -> assertThat(s.lost()).as(s.toString()).isZero());
    // Otherwise a method that stopped early would look fast.
    assertThat(steps)
        .filteredOn(s -> s.step().equals("4 -> 3"))
        .allSatisfy(s -> assertThat(s.slotsOnNewMaster()).as(s.toString()).isZero());
  }

  private static double seconds(List<Step> steps, int keys, String method, String step) {
    return steps.stream()
        .filter(s -> s.keys() == keys && s.method().equals(method) && s.step().equals(step))
        .mapToDouble(Step::seconds)
        .findFirst()
        .orElse(Double.NaN); // a method left out of this run
  }

  private List<Step> run(int keys, String method) throws Exception {
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
      new InitCommand(Map.of(), () -> null).execute(ops(pods, clients, 3));
      ClusterHarness.writeKeys(valkey, nodes, keys);
      ClusterHarness.startUpTo(valkey, nodes, 8);
      // The new shard joins the same way for every method (not timed): pod 6 master, 7 replica.
      ClusterOps four = ops(pods, clients, 4);
      Snapshot snapshot = four.snapshotOfLayout("join");
      four.join("join", snapshot.members());
      four.waitHealthy("ok", pods.get());
      Snapshot joined = four.snapshotOfLayout("read");
      List<PodNode> masters = four.designatedMasters(joined);
      four.attachReplicas("attach", joined, masters);
      String newMaster = clients.at(ClusterHarness.address(nodes.get(6)), "valkey-6").myId();
      List<PodNode> oldMasters = masters.stream().filter(m -> m.ordinal() != 6).toList();

      List<Step> out = new ArrayList<>();
      for (String step : List.of("3 -> 4", "4 -> 3")) {
        boolean up = step.equals("3 -> 4");
        long keysBefore = dbsize(clients, nodes.get(6));
        Writer writer = new Writer(nodes);
        Thread thread = Thread.ofPlatform().start(writer);
        Thread.sleep(1000);
        writer.moving.set(true);
        long t0 = System.nanoTime();
        switch (method) {
          case "atomic" -> four.balance("benchmark " + step, up ? masters : oldMasters);
          case "key-by-key" -> keyByKey(pods, clients, up ? masters : oldMasters);
          default -> {
            String seed = ClusterHarness.address(nodes.get(0)).toString();
            if (up) {
              cli("--cluster", "rebalance", seed, "--cluster-use-empty-masters");
            } else {
              cli("--cluster", "rebalance", seed, "--cluster-weight", newMaster + "=0");
            }
          }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        writer.moving.set(false);
        Thread.sleep(500);
        writer.stop.set(true);
        thread.join();
        four.waitHealthy("ok", pods.get());
        // 3 -> 4: what the new master holds once its key count stands still. 4 -> 3: everything it
        // held (it ends with no slot, asserted below, and then turns replica of the master that
        // took its last slots, so its own key count says nothing any more).
        long moved = up ? settledDbsize(clients, nodes.get(6)) - keysBefore : keysBefore;
        int slotsOnNew =
            ClusterView.read(clients.at(ClusterHarness.address(nodes.get(0)), "valkey-0"))
                .nodes()
                .stream()
                .filter(n -> n.id().equals(newMaster))
                .mapToInt(ClusterNode::slotCount)
                .sum();
        int lost = ClusterHarness.missingKeys(valkey, nodes, keys) + writer.lost(valkey, nodes);
        out.add(
            new Step(
                keys,
                method,
                step,
                seconds,
                moved,
                writer.failedDuringMove(),
                writer.p99Ms(),
                lost,
                slotsOnNew));
      }
      return out;
    }
  }

  private static ClusterOps ops(Supplier<List<ClusterPod>> pods, NodeClients clients, int masters) {
    return new ClusterOps(
        pods, clients, new ShardLayout(masters, 1), new SlotMigrator(MigrationHook.NONE), TIMEOUT);
  }

  private static long settledDbsize(NodeClients clients, ValkeyProcess node)
      throws InterruptedException {
    long last = dbsize(clients, node);
    for (int i = 0; i < 120; i++) {
      Thread.sleep(500);
      long now = dbsize(clients, node);
      if (now == last) {
        return now;
      }
      last = now;
    }
    return last;
  }

  private static long dbsize(NodeClients clients, ValkeyProcess node) {
    return clients
        .at(ClusterHarness.address(node), node.name())
        .step("dbsize")
        .call(c -> c.dbsize());
  }

  /**
   * The previous release's path: the slots the reconciler's plan moves, each with SETSLOT IMPORTING
   * / MIGRATING, MIGRATE of 500 keys at a time and SETSLOT NODE, 8 slots in flight.
   */
  private static void keyByKey(
      Supplier<List<ClusterPod>> pods, NodeClients clients, List<PodNode> keep) throws Exception {
    Snapshot snapshot = Snapshot.take("key-by-key", pods.get(), clients);
    Map<String, BitSet> owned = new LinkedHashMap<>();
    for (ClusterNode n : ClusterView.read(keep.get(0).client()).nodes()) {
      if (n.isMaster() && n.slotCount() > 0) {
        owned.put(n.id(), n.slots());
      }
    }
    ConcurrentLinkedQueue<SlotBalancer.Move> queue =
        new ConcurrentLinkedQueue<>(
            SlotBalancer.plan(keep.stream().map(PodNode::id).toList(), owned));
    SlotMigrator migrator = new SlotMigrator(MigrationHook.NONE);
    ExecutorService pool = Executors.newFixedThreadPool(8);
    List<Future<?>> futures = new ArrayList<>();
    for (int w = 0; w < 8; w++) {
      futures.add(
          pool.submit(
              () -> {
                try (NodeClients own = clients.fork()) {
                  SlotBalancer.Move m;
                  while ((m = queue.poll()) != null) {
                    PodNode from = snapshot.byId(m.from()).orElseThrow();
                    PodNode to = snapshot.byId(m.to()).orElseThrow();
                    moveRetryingNoReplicas(migrator, m, from, to, own);
                  }
                }
                return null;
              }));
    }
    pool.shutdown();
    for (Future<?> f : futures) {
      f.get();
    }
  }

  /**
   * One slot the old way. The importing node writes with RESTORE: while its replica's link lags
   * under the load, min-replicas-to-write answers NOREPLICAS; the old path retried the slot.
   */
  private static void moveRetryingNoReplicas(
      SlotMigrator migrator, SlotBalancer.Move m, PodNode from, PodNode to, NodeClients own)
      throws InterruptedException {
    for (int attempt = 1; ; attempt++) {
      try {
        migrator.move(
            m.slot(),
            from.pod().node(own, "move"),
            from.id(),
            to.pod().node(own, "move"),
            to.id(),
            List.of());
        return;
      } catch (RuntimeException e) {
        if (attempt >= 100 || !String.valueOf(e.getMessage()).contains("NOREPLICAS")) {
          throw e;
        }
        Thread.sleep(100);
      }
    }
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

  /** Sets bench:N every millisecond; latencies and failures while the move runs. */
  static final class Writer implements Runnable {
    final AtomicBoolean stop = new AtomicBoolean();
    final AtomicBoolean moving = new AtomicBoolean();
    private final ConcurrentLinkedQueue<Long> latencyNs = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Integer> acked = new ConcurrentLinkedQueue<>();
    private volatile int failedDuringMove;
    private final RedisClusterClient client;
    private final String prefix = "bench:" + System.nanoTime() + ":";

    Writer(List<ValkeyProcess> nodes) {
      client =
          RedisClusterClient.create(
              ClusterHarness.resolving(nodes),
              nodes.stream()
                  .map(n -> RedisURI.builder().withHost(n.host()).withPort(n.port()).build())
                  .toList());
      client.setOptions(
          ClusterClientOptions.builder()
              .timeoutOptions(TimeoutOptions.enabled(Duration.ofSeconds(2)))
              .topologyRefreshOptions(
                  ClusterTopologyRefreshOptions.builder()
                      .enableAllAdaptiveRefreshTriggers()
                      .build())
              .build());
    }

    @Override
    public void run() {
      try (StatefulRedisClusterConnection<String, String> c = client.connect()) {
        RedisAdvancedClusterCommands<String, String> sync = c.sync();
        for (int i = 0; !stop.get(); i++) {
          boolean during = moving.get();
          long t0 = System.nanoTime();
          try {
            sync.set(prefix + i, "v" + i);
            acked.add(i);
            if (during) {
              latencyNs.add(System.nanoTime() - t0);
            }
          } catch (RuntimeException e) {
            if (during) {
              failedDuringMove++;
            }
          }
          try {
            Thread.sleep(1);
          } catch (InterruptedException e) {
            return;
          }
        }
      }
    }

    int failedDuringMove() {
      return failedDuringMove;
    }

    double p99Ms() {
      long[] sorted = latencyNs.stream().mapToLong(Long::longValue).sorted().toArray();
      return sorted.length == 0 ? 0 : sorted[(int) Math.floor(sorted.length * 0.99)] / 1e6;
    }

    /** Acknowledged writes that do not read back. */
    int lost(LoopbackValkey valkey, List<ValkeyProcess> nodes) {
      try (StatefulRedisClusterConnection<String, String> c = client.connect()) {
        int lost = 0;
        for (int i : acked) {
          if (!("v" + i).equals(c.sync().get(prefix + i))) {
            lost++;
          }
        }
        return lost;
      } finally {
        client.shutdown();
        client.getResources().shutdown();
      }
    }
  }
}
