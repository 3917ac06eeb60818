package io.valkeyk8s.reconciler.cluster.topology;

import io.valkeyk8s.reconciler.core.StepFailedException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves slots with Valkey 9's atomic slot migration: each source gets one {@code CLUSTER
 * MIGRATESLOTS} with a job per target (its slot ranges), the sources work in parallel and the
 * servers copy a snapshot of the slots, stream the writes made meanwhile and hand the slots over in
 * one step. No slot is ever open (MIGRATING/IMPORTING): a job that fails leaves its slots with the
 * source, and one still running when this process dies goes on and ends by itself. So every run
 * first waits for the jobs it finds running, then plans from the slots as the nodes own them.
 */
public final class AtomicSlotMigration {
  private static final Logger LOG = LoggerFactory.getLogger(AtomicSlotMigration.class);
  static final Set<String> TERMINAL = Set.of("success", "failed", "cancelled");
  private static final Duration POLL = Duration.ofMillis(50);

  private final MigrationHook hook;
  private final Duration timeout;
  private final AtomicLong slotsMoved = new AtomicLong();

  AtomicSlotMigration(MigrationHook hook, Duration timeout) {
    this.hook = hook;
    this.timeout = timeout;
  }

  public long slotsMoved() {
    return slotsMoved.get();
  }

  /** Jobs still running on any of the masters, "pod: ranges -> target (state)" each. */
  static List<String> running(List<PodNode> masters) {
    List<String> out = new ArrayList<>();
    for (PodNode m : masters) {
      for (Map<String, Object> job : m.client().step("read slot migrations").slotMigrations()) {
        if ("EXPORT".equals(job.get("operation")) && !TERMINAL.contains(job.get("state"))) {
          out.add(
              m.pod().name()
                  + ": "
                  + job.get("slot_ranges")
                  + " -> "
                  + job.get("target_node")
                  + " ("
                  + job.get("state")
                  + ")");
        }
      }
    }
    return out;
  }

  /** Waits until no master exports slots any more (jobs of an earlier, interrupted run too). */
  void awaitIdle(String step, List<PodNode> masters) {
    try {
      Wait.until(
          step + ": wait for running slot migrations",
          timeout,
          () -> {
            List<String> jobs = running(masters);
            return jobs.isEmpty() ? null : jobs.size() + " running: " + String.join("; ", jobs);
          });
    } catch (StepFailedException e) {
      // Still running after the whole timeout: roll back (the slots stay with their sources).
      for (PodNode m : masters) {
        try {
          m.client().step(step + ": cancel slot migrations").cancelSlotMigrations();
        } catch (StepFailedException cancel) {
          LOG.debug("{}", cancel.getMessage());
        }
      }
      throw e;
    }
  }

  /**
   * A job that did not succeed; its slots stayed with the source. {@code targetNode} is null when
   * the target is not among the known nodes.
   */
  record Failed(PodNode source, PodNode targetNode, String target, String text) {
    /** Source and target both still answer: the cause was passing (a retry can succeed). */
    boolean bothAnswer() {
      return answers(source) && targetNode != null && answers(targetNode);
    }

    private static boolean answers(PodNode node) {
      try {
        node.client().step("check the node answers").ping();
        return true;
      } catch (StepFailedException e) {
        return false;
      }
    }
  }

  /**
   * Starts the moves (one MIGRATESLOTS per source) and waits until the servers finished them.
   * Returns the jobs that failed; what they should have moved stays where it was.
   */
  List<Failed> run(String step, List<SlotBalancer.Move> moves, Map<String, PodNode> byId) {
    Map<String, Map<String, BitSet>> bySource = new LinkedHashMap<>();
    for (SlotBalancer.Move m : moves) {
      bySource
          .computeIfAbsent(m.from(), k -> new LinkedHashMap<>())
          .computeIfAbsent(m.to(), k -> new BitSet(ShardLayout.SLOTS))
          .set(m.slot());
    }
    long started = System.currentTimeMillis() / 1000;
    List<PodNode> sources = new ArrayList<>();
    for (var e : bySource.entrySet()) {
      PodNode source = byId.get(e.getKey());
      Map<String, List<int[]>> ranges = new LinkedHashMap<>();
      e.getValue().forEach((target, slots) -> ranges.put(target, ranges(slots)));
      for (var t : e.getValue().entrySet()) {
        LOG.info(
            "action=migrate-slots pod={} from={} to={} slots={} reason=\"{}\"",
            source.pod().name(),
            source.pod().name(),
            byId.get(t.getKey()).pod().name(),
            SlotMigrator.ranges(t.getValue()),
            step);
      }
      source.client().step(step + ": CLUSTER MIGRATESLOTS").migrateSlots(ranges);
      sources.add(source);
      e.getValue().values().forEach(slots -> hook.afterBatch(slots.nextSetBit(0), 0));
    }
    List<Failed> failed = new ArrayList<>();
    Wait.until(
        step + ": wait for the atomic slot migrations",
        timeout,
        () -> {
          List<String> jobs = running(sources);
          return jobs.isEmpty() ? null : jobs.size() + " running: " + String.join("; ", jobs);
        },
        POLL);
    for (PodNode source : sources) {
      for (Map<String, Object> job : source.client().step(step).slotMigrations()) {
        if (!"EXPORT".equals(job.get("operation"))
            || !(job.get("create_time") instanceof Long t)
            || t < started - 1) {
          continue;
        }
        PodNode target = byId.get(String.valueOf(job.get("target_node")));
        String to = target == null ? String.valueOf(job.get("target_node")) : target.describe();
        if ("success".equals(job.get("state"))) {
          slotsMoved.addAndGet(count(String.valueOf(job.get("slot_ranges"))));
          LOG.info(
              "action=slots-migrated pod={} to={} slots={} reason=\"{}\"",
              source.pod().name(),
              to,
              job.get("slot_ranges"),
              step);
        } else {
          failed.add(
              new Failed(
                  source,
                  target,
                  to,
                  "migration of slots "
                      + job.get("slot_ranges")
                      + " from "
                      + source.describe()
                      + " to "
                      + to
                      + " "
                      + job.get("state")
                      + ": "
                      + job.get("message")));
        }
      }
    }
    return failed;
  }

  static List<int[]> ranges(BitSet slots) {
    List<int[]> out = new ArrayList<>();
    for (int s = slots.nextSetBit(0); s >= 0; ) {
      int end = slots.nextClearBit(s) - 1;
      out.add(new int[] {s, end});
      s = slots.nextSetBit(end + 1);
    }
    return out;
  }

  /** Slots in "0-99 200-299". */
  static int count(String ranges) {
    int n = 0;
    for (String r : ranges.trim().split(" ")) {
      if (r.isEmpty()) {
        continue;
      }
      String[] ab = r.split("-");
      n += Integer.parseInt(ab[ab.length - 1]) - Integer.parseInt(ab[0]) + 1;
    }
    return n;
  }
}
