package io.valkeyk8s.reconciler.sentinel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lettuce.core.api.StatefulRedisConnection;
import io.valkeyk8s.testsupport.KubeApiServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Benchmark, not part of CI: the reconciler's planned handover of a terminating primary, asked as
 * {@code SENTINEL FAILOVER <name> COORDINATED} and as pause + forced failover, alternating on the
 * same real Valkey 9.1 servers, Sentinels and kube-apiserver. A writer sets keys on whichever pod
 * carries the label (as a client of the primary Service would, without kube-proxy's delay) and
 * records the longest gap between two acknowledged writes, the failed writes, and the acknowledged
 * writes the final primary lacks. Prints one row per handover and p50/p95 per mode; asserts only
 * that no acknowledged write is lost.
 *
 * <p>Run: {@code ./mvnw -B -ntp -pl reconciler -am verify -Dit.test=PlannedHandoverBenchmark
 * -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false [-Dbenchmark.handovers=10]}
 */
class PlannedHandoverBenchmark {
  private static final int ROUNDS = Integer.getInteger("benchmark.handovers", 10);

  record Row(String mode, int round, long labelMs, long longestGapMs, int failed, int lost) {}

  @Test
  void coordinatedAgainstForced() throws Exception {
    List<Row> rows = new ArrayList<>();
    try (KubeApiServer api = KubeApiServer.start();
        SentinelScenario s = new SentinelScenario(api)) {
      for (String mode : List.of("coordinated", "forced")) {
        Map<String, String> env = s.env("bench-" + mode);
        env.put("VALKEY_HANDOVER_FAILOVER", mode);
        var reconciler = s.startReconciler(env);
        for (int round = 1; round <= ROUNDS; round++) {
          rows.add(handover(s, mode, round));
        }
        s.stopReconciler(reconciler);
      }
    }
    System.out.printf(
        "%n=== planned handover of a terminating primary, 3 nodes, writer on the labelled pod ===%n"
            + "| mode | round | label moved (ms) | longest write gap (ms) | failed writes | lost |%n"
            + "|---|---|---|---|---|---|%n");
    rows.forEach(
        r ->
            System.out.printf(
                "| %s | %d | %d | %d | %d | %d |%n",
                r.mode(), r.round(), r.labelMs(), r.longestGapMs(), r.failed(), r.lost()));
    for (String mode : List.of("coordinated", "forced")) {
      List<Row> of = rows.stream().filter(r -> r.mode().equals(mode)).toList();
      System.out.printf(
          "%s: label moved p50 %d / p95 %d ms, longest write gap p50 %d / p95 %d ms, failed %d, lost %d (%d handovers)%n",
          mode,
          percentile(of.stream().map(Row::labelMs).toList(), 50),
          percentile(of.stream().map(Row::labelMs).toList(), 95),
          percentile(of.stream().map(Row::longestGapMs).toList(), 50),
          percentile(of.stream().map(Row::longestGapMs).toList(), 95),
          of.stream().mapToInt(Row::failed).sum(),
          of.stream().mapToInt(Row::lost).sum(),
          of.size());
    }
    assertThat(rows).allSatisfy(r -> assertThat(r.lost()).as(r.toString()).isZero());
  }

  private static Row handover(SentinelScenario s, String mode, int round) throws Exception {
    String before = s.awaitLabelOnSentinelPrimary();
    int node = SentinelScenario.nodeOf(before);
    GapWriter writer = new GapWriter(s);
    try {
      await().atMost(SentinelScenario.CONVERGE).until(() -> writer.acknowledged.size() >= 300);
      long t0 = System.nanoTime();
      s.terminate(before);
      String after = s.awaitSettledFailoverAwayFrom(node);
      long labelMs = (s.watch.labelledAt(after).orElseThrow() - t0) / 1_000_000;
      int from = writer.acknowledged.size();
      await()
          .atMost(SentinelScenario.CONVERGE)
          .until(() -> writer.acknowledged.size() >= from + 300);
      writer.close();
      return new Row(
          mode,
          round,
          labelMs,
          writer.longestGapNanos.get() / 1_000_000,
          writer.failed.get(),
          writer.missingOn(s));
    } finally {
      writer.close();
      s.releaseTerminating(before);
      s.pods.create(before, s.valkey.ip(node));
      // The old primary comes back as a replica; the next round starts once every Sentinel agrees.
      await()
          .atMost(SentinelScenario.CONVERGE)
          .until(() -> s.valkey.primaryAllSentinelsSettledOn().isPresent());
      Thread.sleep(2000);
    }
  }

  private static long percentile(List<Long> values, int p) {
    List<Long> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    return sorted.isEmpty()
        ? 0
        : sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
  }

  /** Writes k0, k1, ... to the labelled pod every millisecond; the longest gap between acks. */
  static final class GapWriter implements AutoCloseable {
    final List<String> acknowledged = Collections.synchronizedList(new ArrayList<>());
    final AtomicInteger failed = new AtomicInteger();
    final AtomicLong longestGapNanos = new AtomicLong();
    private final AtomicBoolean writing = new AtomicBoolean(true);
    private final String prefix = "h" + System.nanoTime() + ":";
    private final SentinelScenario s;
    private final Thread thread;

    GapWriter(SentinelScenario s) {
      this.s = s;
      this.thread = Thread.ofPlatform().name("gap-writer").start(this::run);
    }

    private void run() {
      StatefulRedisConnection<String, String> c = null;
      int target = -1;
      long lastAck = 0;
      for (int seq = 0; writing.get(); seq++) {
        try {
          var labelled = s.watch.labelledPod();
          if (labelled.isPresent()) {
            int node = SentinelScenario.nodeOf(labelled.get());
            if (c == null || node != target) {
              if (c != null) {
                c.close();
              }
              c = s.valkey.connect(node);
              c.setTimeout(Duration.ofSeconds(15));
              target = node;
            }
            c.sync().set(prefix + seq, "v");
            long now = System.nanoTime();
            if (lastAck != 0) {
              longestGapNanos.accumulateAndGet(now - lastAck, Math::max);
            }
            lastAck = now;
            acknowledged.add(prefix + seq);
          }
          Thread.sleep(1);
        } catch (InterruptedException e) {
          return;
        } catch (RuntimeException e) {
          failed.incrementAndGet();
          if (c != null) {
            c.close();
            c = null;
          }
        }
      }
      if (c != null) {
        c.close();
      }
    }

    int missingOn(SentinelScenario s) {
      int primary = s.valkey.nodeOf(s.valkey.primaryBySentinels().orElseThrow().getHostString());
      int missing = 0;
      try (StatefulRedisConnection<String, String> c = s.valkey.connect(primary)) {
        synchronized (acknowledged) {
          for (String key : acknowledged) {
            if (c.sync().exists(key) == 0) {
              missing++;
            }
          }
        }
      }
      return missing;
    }

    @Override
    public void close() throws InterruptedException {
      writing.set(false);
      thread.join();
    }
  }
}
