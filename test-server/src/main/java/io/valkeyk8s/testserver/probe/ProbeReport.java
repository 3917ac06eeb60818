package io.valkeyk8s.testserver.probe;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The outcome of a probe run, in the shape end-to-end tests and benchmarks parse ({@link #toJson})
 * and in a few lines for a person ({@link #toText}). Field names are a contract: add, never rename.
 *
 * <p>{@code windows} are per write, in send order: a window closes with the next acknowledged
 * write, whatever slot it went to. In cluster mode a shard without a primary therefore shows as
 * many short windows between writes that other shards acknowledged; {@code cluster.shards} has each
 * shard's own windows ({@link ClusterReport}).
 */
@JsonPropertyOrder({
  "runId",
  "target",
  "startedAt",
  "endedAt",
  "durationMs",
  "totalWrites",
  "ackedWrites",
  "failedWrites",
  "unavailableMs",
  "longestUnavailableMs",
  "windows",
  "verified",
  "missingAckedWrites",
  "missingIds",
  "unverifiedAckedWrites",
  "failedButStored",
  "verificationError",
  "mode",
  "cluster"
})
public record ProbeReport(
    String runId,
    String target,
    String startedAt,
    String endedAt,
    long durationMs,
    long totalWrites,
    long ackedWrites,
    long failedWrites,
    long unavailableMs,
    long longestUnavailableMs,
    List<Window> windows,
    boolean verified,
    long missingAckedWrites,
    List<Long> missingIds,
    long unverifiedAckedWrites,
    long failedButStored,
    String verificationError,
    String mode,
    @JsonInclude(JsonInclude.Include.NON_NULL) ClusterReport cluster) {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** One unavailability window; {@code errors} counts the failed writes by kind. */
  @JsonPropertyOrder({
    "start",
    "end",
    "durationMs",
    "errorKind",
    "failedWrites",
    "errors",
    "ongoing"
  })
  public record Window(
      String start,
      String end,
      long durationMs,
      String errorKind,
      int failedWrites,
      Map<String, Integer> errors,
      boolean ongoing) {}

  /** A standalone report. */
  public static ProbeReport of(
      String runId,
      String target,
      ProbeClock clock,
      long endNanos,
      List<WriteAttempt> attempts,
      Verification verification) {
    return of(runId, target, clock, endNanos, attempts, verification, null);
  }

  /**
   * @param cluster the per-shard part in cluster mode, {@code null} standalone
   */
  public static ProbeReport of(
      String runId,
      String target,
      ProbeClock clock,
      long endNanos,
      List<WriteAttempt> attempts,
      Verification verification,
      ClusterReport cluster) {
    List<Window> windows = windows(clock, attempts);
    long acked = attempts.stream().filter(WriteAttempt::isAcked).count();
    return new ProbeReport(
        runId,
        target,
        clock.instantAt(0).toString(),
        clock.instantAt(endNanos).toString(),
        endNanos / 1_000_000,
        attempts.size(),
        acked,
        attempts.size() - acked,
        windows.stream().mapToLong(Window::durationMs).sum(),
        windows.stream().mapToLong(Window::durationMs).max().orElse(0),
        windows,
        verification.complete(),
        verification.missingAcked(),
        verification.missingIds(),
        verification.unverifiedAcked(),
        verification.failedButStored(),
        verification.error(),
        cluster == null ? "standalone" : "cluster",
        cluster);
  }

  /** The unavailability windows of writes given in send order. */
  static List<Window> windows(ProbeClock clock, List<WriteAttempt> attempts) {
    return UnavailabilityWindows.of(attempts).stream().map(w -> window(clock, w)).toList();
  }

  private static Window window(ProbeClock clock, UnavailabilityWindow w) {
    Map<String, Integer> errors = new LinkedHashMap<>();
    w.errors().forEach((kind, count) -> errors.put(kind.label(), count));
    return new Window(
        clock.instantAt(w.startNanos()).toString(),
        clock.instantAt(w.endNanos()).toString(),
        w.durationMillis(),
        w.firstError().label(),
        w.failedWrites(),
        errors,
        w.ongoing());
  }

  /**
   * Process exit status for the probe command: 0 when every acknowledged write was found, 1 when
   * some are missing, 3 when they could not all be read back.
   */
  public int exitCode() {
    if (missingAckedWrites > 0) {
      return 1;
    }
    return verified ? 0 : 3;
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write report as JSON", e);
    }
  }

  public static ProbeReport fromJson(String json) {
    try {
      return JSON.readValue(json, ProbeReport.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not a probe report: " + e.getOriginalMessage(), e);
    }
  }

  public String toText() {
    StringBuilder out = new StringBuilder();
    out.append("probe ")
        .append(runId)
        .append(" against ")
        .append(target)
        .append(": ")
        .append(startedAt)
        .append(" .. ")
        .append(endedAt)
        .append(" (")
        .append(durationMs)
        .append(" ms)\n");
    out.append("writes: ")
        .append(totalWrites)
        .append(" total, ")
        .append(ackedWrites)
        .append(" acknowledged, ")
        .append(failedWrites)
        .append(" failed\n");
    out.append("unavailability windows: ").append(windows.size());
    if (!windows.isEmpty()) {
      out.append(" (total ")
          .append(unavailableMs)
          .append(" ms, longest ")
          .append(longestUnavailableMs)
          .append(" ms)");
    }
    out.append('\n');
    appendWindows(out, "  ", windows);
    if (cluster != null) {
      cluster.appendText(out);
    }
    out.append("acknowledged writes missing: ")
        .append(missingAckedWrites)
        .append(" of ")
        .append(ackedWrites);
    if (!missingIds.isEmpty()) {
      out.append(" (ids ").append(missingIds).append(')');
    }
    out.append(
        verified
            ? " (all read back)"
            : " (NOT fully verified: "
                + unverifiedAckedWrites
                + " unread; "
                + verificationError
                + ")");
    out.append('\n');
    if (failedButStored > 0) {
      out.append("failed writes stored anyway: ").append(failedButStored).append('\n');
    }
    return out.toString();
  }

  /** One line per window, each starting with {@code indent}. */
  static void appendWindows(StringBuilder out, String indent, List<Window> windows) {
    for (Window w : windows) {
      out.append(indent)
          .append(w.start())
          .append(" .. ")
          .append(w.end())
          .append("  ")
          .append(w.durationMs())
          .append(" ms  ")
          .append(w.errorKind())
          .append("  (")
          .append(w.failedWrites())
          .append(" failed: ")
          .append(
              w.errors().entrySet().stream()
                  .map(e -> e.getKey() + "=" + e.getValue())
                  .collect(Collectors.joining(", ")))
          .append(')')
          .append(w.ongoing() ? "  still unavailable at the end" : "")
          .append('\n');
    }
  }
}
