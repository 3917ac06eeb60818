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
import io.valkeyk8s.reconciler.cluster.topology.ClusterOps;
import io.valkeyk8s.reconciler.cluster.topology.ClusterPod;
import io.valkeyk8s.reconciler.cluster.topology.ClusterView;
import io.valkeyk8s.reconciler.cluster.topology.MigrationHook;
import io.valkeyk8s.reconciler.cluster.topology.ShardLayout;
import io.valkeyk8s.reconciler.cluster.topology.SlotMigrator;
import io.valkeyk8s.reconciler.valkey.Credentials;
import io.valkeyk8s.reconciler.valkey.NodeClient;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import io.valkeyk8s.testsupport.LoopbackValkey;
import io.valkeyk8s.testsupport.ValkeyProcess;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * Benchmark, not part of CI: how a cluster primary that is stopped (a rolling restart) should hand
 * over, measured by a writer on a 3x1 cluster. {@code sigterm-failover}: SIGTERM with {@code
 * shutdown-on-sigterm default failover} (what the chart configures); {@code cluster-failover}:
 * {@code CLUSTER FAILOVER} on its replica first (what a reconciler or preStop would do), then
 * SIGTERM; {@code sigterm-only}: SIGTERM with the default, so the replica takes over only after the
 * failure detection. Prints the longest write pause, failed writes and acknowledged writes lost per
 * run; asserts nothing is lost by the handovers.
 *
 * <p>Run: {@code VALKEY_HANDOVER_BENCHMARK=1 ./mvnw -B -ntp -pl reconciler verify
 * -Dit.test=HandoverBenchmark [-Dhandover.runs=5]}
 */
@EnabledIfEnvironmentVariable(named = "VALKEY_HANDOVER_BENCHMARK", matches = "1")
class HandoverBenchmark {
  private static final int RUNS = Integer.getInteger("handover.runs", 5);
  private static final Duration WRITE_INTERVAL = Duration.ofMillis(5);

  record Run(String strategy, long pauseMs, int failed, int acked, int lost) {}

  @Test
  void stoppedPrimaryHandsOver() throws Exception {
    List<Run> runs = new ArrayList<>();
    for (int i = 0; i < RUNS; i++) {
      for (String strategy : List.of("sigterm-failover", "cluster-failover", "sigterm-only")) {
        runs.add(run(strategy));
      }
    }
    System.out.printf("%n=== stopped primary of a 3x1 cluster, writer every 5 ms ===%n");
    System.out.printf(
        "| strategy | runs | pause p50 (ms) | pause max (ms) | failed writes | lost |%n");
    System.out.printf("|---|---|---|---|---|---|%n");
    for (String strategy : List.of("sigterm-failover", "cluster-failover", "sigterm-only")) {
      List<Run> of = runs.stream().filter(r -> r.strategy().equals(strategy)).toList();
      long[] pauses = of.stream().mapToLong(Run::pauseMs).sorted().toArray();
      System.out.printf(
          "| %s | %d | %d | %d | %d | %d |%n",
          strategy,
          of.size(),
          pauses[pauses.length / 2],
          pauses[pauses.length - 1],
          of.stream().mapToInt(Run::failed).sum(),
          of.stream().mapToInt(Run::lost).sum());
    }
    runs.forEach(r -> System.out.println(r));
    assertThat(runs.stream().filter(r -> !r.strategy().equals("sigterm-only")))
        .allSatisfy(r -> assertThat(r.lost()).as(r.toString()).isZero());
  }

  private Run run(String strategy) throws Exception {
    try (LoopbackValkey valkey = LoopbackValkey.withoutAuth();
        NodeClients clients =
            NodeClients.withOwnThreads(2, Credentials.NONE, Duration.ofSeconds(10), true)) {
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
      ClusterOps ops =
          new ClusterOps(
              pods,
              clients,
              new ShardLayout(3, 1),
              new SlotMigrator(MigrationHook.NONE),
              Duration.ofMinutes(2));
      new InitCommand(Map.of(), () -> null).execute(ops);
      String setting = strategy.equals("sigterm-only") ? "default" : "default failover";
      for (ValkeyProcess n : nodes) {
        clients
            .at(ClusterHarness.address(n), n.name())
            .step("config")
            .call(c -> c.configSet("shutdown-on-sigterm", setting));
      }
      Writer writer = new Writer(nodes);
      Thread thread = Thread.ofPlatform().start(writer);
      Thread.sleep(2000);
      ValkeyProcess primary = nodes.get(2);
      if (strategy.equals("cluster-failover")) {
        NodeClient replica = clients.at(ClusterHarness.address(nodes.get(3)), "valkey-3").step("f");
        replica.failover();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!ClusterView.read(replica).myself().isMaster() && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
      }
      primary.stop();
      Thread.sleep(8000);
      writer.stop.set(true);
      thread.join();
      primary.start();
      ops.waitHealthy("benchmark: cluster ok", pods.get());
      int lost = writer.lost(nodes);
      return new Run(
          strategy, writer.longestPauseMs(), writer.failed.size(), writer.acked.size(), lost);
    }
  }

  /** Writes w:N every 5 ms through a cluster client; records acknowledged ids and failures. */
  static final class Writer implements Runnable {
    final AtomicBoolean stop = new AtomicBoolean();
    final ConcurrentLinkedQueue<Integer> acked = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<long[]> failed = new ConcurrentLinkedQueue<>(); // {startNs, endNs}
    private final RedisClusterClient client;

    Writer(List<ValkeyProcess> nodes) {
      client =
          RedisClusterClient.create(
              ClusterHarness.resolving(nodes),
              nodes.stream()
                  .map(n -> RedisURI.builder().withHost(n.host()).withPort(n.port()).build())
                  .toList());
      client.setOptions(
          ClusterClientOptions.builder()
              .timeoutOptions(TimeoutOptions.enabled(Duration.ofMillis(500)))
              .topologyRefreshOptions(
                  ClusterTopologyRefreshOptions.builder()
                      .enableAllAdaptiveRefreshTriggers()
                      .enablePeriodicRefresh(Duration.ofSeconds(1))
                      .build())
              .build());
    }

    @Override
    public void run() {
      try (StatefulRedisClusterConnection<String, String> c = client.connect()) {
        RedisAdvancedClusterCommands<String, String> sync = c.sync();
        for (int i = 0; !stop.get(); i++) {
          long t0 = System.nanoTime();
          try {
            sync.set("w:" + i, "v" + i);
            acked.add(i);
          } catch (RuntimeException e) {
            failed.add(new long[] {t0, System.nanoTime()});
          }
          try {
            Thread.sleep(WRITE_INTERVAL);
          } catch (InterruptedException e) {
            return;
          }
        }
      }
    }

    /** From the first failed write of the longest run of failures to the end of its last. */
    long longestPauseMs() {
      long longest = 0;
      long start = -1;
      long end = -1;
      for (long[] f : failed) {
        if (start < 0 || f[0] - end > Duration.ofMillis(200).toNanos()) {
          start = f[0];
        }
        end = f[1];
        longest = Math.max(longest, end - start);
      }
      return Duration.ofNanos(longest).toMillis();
    }

    int lost(List<ValkeyProcess> nodes) {
      try (StatefulRedisClusterConnection<String, String> c = client.connect()) {
        int lost = 0;
        for (int i : acked) {
          if (!("v" + i).equals(c.sync().get("w:" + i))) {
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
