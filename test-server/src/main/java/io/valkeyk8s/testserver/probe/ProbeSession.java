package io.valkeyk8s.testserver.probe;

import io.valkeyk8s.testserver.ResilientConnection;
import io.valkeyk8s.testserver.ValkeyTarget;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

/**
 * A probe with its connections: one for the writes, another to read them back, so a report asked
 * for while serving never delays a write.
 */
public final class ProbeSession implements AutoCloseable {
  private static final Duration READ_RETRY_PAUSE = Duration.ofMillis(200);

  private final ValkeyTarget target;
  private final ResilientConnection writes;
  private final ResilientConnection reads;
  private final Probe probe;
  private final Duration verifyTimeout;

  public ProbeSession(
      ValkeyTarget target,
      Duration commandTimeout,
      ProbeOptions options,
      Duration verifyTimeout,
      String runId) {
    this.target = target;
    this.writes = new ResilientConnection(target, commandTimeout);
    this.reads = new ResilientConnection(target, commandTimeout);
    this.probe = new Probe(options, new ProbeKeys(runId), writes);
    this.verifyTimeout = verifyTimeout;
  }

  /** A short random run id, so runs never read each other's keys. */
  public static String newRunId() {
    return UUID.randomUUID().toString().substring(0, 8);
  }

  /** Writes until the options' bounds or {@link #stop()}; blocks the calling thread. */
  public void run() {
    probe.run();
  }

  public void stop() {
    probe.stop();
  }

  /** The writes so far, in send order. */
  public List<WriteAttempt> attempts() {
    return probe.log().snapshot();
  }

  public ProbeClock clock() {
    return probe.clock();
  }

  /** Reads every write made so far back and reports; the probe may keep running meanwhile. */
  public ProbeReport report() {
    List<WriteAttempt> attempts = probe.log().snapshot();
    long end = probe.clock().now();
    Verifier verifier =
        new Verifier(
            probe.keys(),
            keys -> reads.call(redis -> redis.mget(keys.toArray(String[]::new))),
            verifyTimeout,
            READ_RETRY_PAUSE);
    Verification verification = verifier.verify(attempts);
    return ProbeReport.of(
        probe.keys().runId(), target.address(), probe.clock(), end, attempts, verification);
  }

  @Override
  public void close() {
    writes.close();
    reads.close();
  }
}
