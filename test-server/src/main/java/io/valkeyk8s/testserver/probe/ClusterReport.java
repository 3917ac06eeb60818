package io.valkeyk8s.testserver.probe;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.valkeyk8s.testserver.ClusterView;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The cluster part of a probe report: what the probe's connection followed ({@code
 * topologyChanges}; {@code movedRedirects} and {@code askRedirects}, which Lettuce follows without
 * failing the write) and one entry per shard.
 *
 * <p>A write is counted for the shard whose primary serves its slot at the time of the report, so
 * the writes that failed while a primary was lost and those its promoted replica acknowledged
 * afterwards are one sequence: that shard's windows are the time its slots could not be written,
 * from the first failed write to the next write to the same shard that was acknowledged. Writes to
 * slots no primary serves at report time are the shard with {@code slots} {@code "uncovered"}.
 */
@JsonPropertyOrder({"topologyChanges", "movedRedirects", "askRedirects", "shards"})
public record ClusterReport(
    long topologyChanges, long movedRedirects, long askRedirects, List<Shard> shards) {

  /** One primary and its slots at report time, with the writes to those slots. */
  @JsonPropertyOrder({
    "nodeId",
    "address",
    "slots",
    "totalWrites",
    "ackedWrites",
    "failedWrites",
    "unavailableMs",
    "longestUnavailableMs",
    "windows"
  })
  public record Shard(
      String nodeId,
      String address,
      String slots,
      long totalWrites,
      long ackedWrites,
      long failedWrites,
      long unavailableMs,
      long longestUnavailableMs,
      List<ProbeReport.Window> windows) {}

  private static final ClusterView.Shard UNCOVERED = new ClusterView.Shard(null, null, "uncovered");

  /** Groups the writes (in send order) by the shard serving their key in {@code view}. */
  public static ClusterReport of(
      ClusterView view, ProbeKeys keys, ProbeClock clock, List<WriteAttempt> attempts) {
    Map<ClusterView.Shard, List<WriteAttempt>> byShard = new LinkedHashMap<>();
    view.shards().forEach(shard -> byShard.put(shard, new ArrayList<>()));
    for (WriteAttempt attempt : attempts) {
      ClusterView.Shard shard = view.shardOfKey(keys.key(attempt.id()));
      byShard
          .computeIfAbsent(shard == null ? UNCOVERED : shard, s -> new ArrayList<>())
          .add(attempt);
    }
    List<Shard> shards = new ArrayList<>();
    byShard.forEach((shard, writes) -> shards.add(shard(shard, clock, writes)));
    return new ClusterReport(
        view.topologyChanges(), view.movedRedirects(), view.askRedirects(), List.copyOf(shards));
  }

  private static Shard shard(ClusterView.Shard shard, ProbeClock clock, List<WriteAttempt> writes) {
    List<ProbeReport.Window> windows = ProbeReport.windows(clock, writes);
    long acked = writes.stream().filter(WriteAttempt::isAcked).count();
    return new Shard(
        shard.nodeId(),
        shard.address(),
        shard.slots(),
        writes.size(),
        acked,
        writes.size() - acked,
        windows.stream().mapToLong(ProbeReport.Window::durationMs).sum(),
        windows.stream().mapToLong(ProbeReport.Window::durationMs).max().orElse(0),
        windows);
  }

  void appendText(StringBuilder out) {
    out.append("cluster: ")
        .append(shards.size())
        .append(" shard(s), ")
        .append(topologyChanges)
        .append(" topology change(s), redirects followed: ")
        .append(movedRedirects)
        .append(" MOVED, ")
        .append(askRedirects)
        .append(" ASK\n");
    for (Shard s : shards) {
      out.append("  shard ")
          .append(s.address() == null ? "-" : s.address())
          .append(" slots ")
          .append(s.slots())
          .append(": ")
          .append(s.totalWrites())
          .append(" writes, ")
          .append(s.failedWrites())
          .append(" failed, unavailable ")
          .append(s.unavailableMs())
          .append(" ms in ")
          .append(s.windows().size())
          .append(" window(s)\n");
      ProbeReport.appendWindows(out, "    ", s.windows());
    }
  }
}
