package io.valkeyk8s.testserver.probe;

import io.valkeyk8s.testserver.DurationConverter;
import java.time.Duration;
import picocli.CommandLine.Option;

/** The probe's command-line options, shared by {@code probe} and {@code serve --probe}. */
public final class ProbeSettings {
  @Option(
      names = "--interval",
      defaultValue = "20ms",
      converter = DurationConverter.class,
      description = "Time between two writes (default: ${DEFAULT-VALUE}).")
  Duration interval;

  @Option(
      names = "--duration",
      converter = DurationConverter.class,
      description = "Stop writing after this long (probe: default 60s; serve: until stopped).")
  Duration duration;

  @Option(
      names = "--max-writes",
      defaultValue = "1000000",
      description = "Stop after this many writes (default: ${DEFAULT-VALUE}).")
  long maxWrites;

  @Option(
      names = "--key-ttl",
      defaultValue = "1h",
      converter = DurationConverter.class,
      description = "Expiry of the probe keys; 0s keeps them (default: ${DEFAULT-VALUE}).")
  Duration keyTtl;

  @Option(
      names = "--verify-timeout",
      defaultValue = "30s",
      converter = DurationConverter.class,
      description = "How long to retry reading writes back (default: ${DEFAULT-VALUE}).")
  Duration verifyTimeout;

  @Option(names = "--run-id", description = "Id in the probe keys (default: random).")
  String runId;

  public ProbeOptions options(Duration defaultDuration) {
    return new ProbeOptions(
        interval, duration == null ? defaultDuration : duration, maxWrites, keyTtl);
  }

  public Duration verifyTimeout() {
    return verifyTimeout;
  }

  public String runId() {
    return runId == null || runId.isBlank() ? ProbeSession.newRunId() : runId;
  }
}
