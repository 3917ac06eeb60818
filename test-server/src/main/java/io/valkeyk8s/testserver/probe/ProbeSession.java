package io.valkeyk8s.testserver.probe;

import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.valkeyk8s.testserver.ClusterView;
import io.valkeyk8s.testserver.Connector;
import io.valkeyk8s.testserver.ValkeyConnection;
import io.valkeyk8s.testserver.ValkeyTarget;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A probe with its connections: one for the writes, another to read them back, so a report asked
 * for while the probe runs never delays a write.
 */
public final class ProbeSession implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ProbeSession.class);
  private static final Duration READ_RETRY_PAUSE = Duration.ofMillis(200);
  static final Duration WARM_UP = Duration.ofSeconds(10);
  private static final Duration WARM_UP_PAUSE = Duration.ofMillis(100);

  private final Connector connector;
  private final ValkeyConnection writes;
  private final ValkeyConnection reads;
  private final Probe probe;
  private final Duration verifyTimeout;

  /** Standalone, without TLS. */
  public ProbeSession(
      ValkeyTarget target,
      Duration commandTimeout,
      ProbeOptions options,
      Duration verifyTimeout,
      String runId) {
    this(Connector.standalone(target, commandTimeout), options, verifyTimeout, runId);
  }

  public ProbeSession(
      Connector connector, ProbeOptions options, Duration verifyTimeout, String runId) {
    this.connector = connector;
    this.writes = connector.open();
    this.reads = connector.open();
    ProbeKeys keys = connector.cluster() ? ProbeKeys.spread(runId) : new ProbeKeys(runId);
    this.probe = new Probe(options, keys, writes);
    this.verifyTimeout = verifyTimeout;
  }

  /** A short random run id, so runs never read each other's keys. */
  public static String newRunId() {
    return UUID.randomUUID().toString().substring(0, 8);
  }

  /**
   * Connects, then writes until the options' bounds or {@link #stop()}; blocks the calling thread.
   */
  public void run() {
    warmUp();
    probe.run();
  }

  /**
   * Opens both connections before the first write, retrying for up to {@link #WARM_UP}: a cold
   * JVM's first TLS handshake (or the first cluster topology) may take longer than the short
   * command timeout, and must not show as a window at the start. Writing starts anyway after that,
   * and at once on a failure that waiting does not cure (a rejected certificate, a wrong password).
   */
  private void warmUp() {
    long deadline = System.nanoTime() + WARM_UP.toNanos();
    for (ValkeyConnection connection : List.of(writes, reads)) {
      while (!probe.isStopped()) {
        try {
          connection.call(RedisClusterCommands::ping);
          break;
        } catch (RuntimeException e) {
          if (!mayPassSoon(e) || System.nanoTime() >= deadline) {
            LOG.info(
                "cannot reach {} yet ({}: {}); writing anyway",
                connector.target().address(),
                ErrorKind.classify(e).label(),
                e.getMessage());
            return;
          }
          LockSupport.parkNanos(WARM_UP_PAUSE.toNanos());
        }
      }
    }
    LOG.info(
        "connected to {} ({}{})",
        connector.target().address(),
        connector.mode(),
        connector.tls().enabled() ? ", TLS" : "");
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

  public ProbeKeys keys() {
    return probe.keys();
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
    return report(attempts, end, verifier.verify(attempts));
  }

  /** The report so far without reading anything back: cheap, for polling. */
  public ProbeReport status() {
    List<WriteAttempt> attempts = probe.log().snapshot();
    long acked = attempts.stream().filter(WriteAttempt::isAcked).count();
    return report(attempts, probe.clock().now(), Verification.notReadBack(acked));
  }

  private ProbeReport report(List<WriteAttempt> attempts, long end, Verification verification) {
    ClusterReport cluster = null;
    if (connector.cluster()) {
      // The write connection's view: the topology the probe itself followed.
      ClusterView view = writes.clusterView().orElseGet(ClusterView::unknown);
      cluster = ClusterReport.of(view, probe.keys(), probe.clock(), attempts);
    }
    return ProbeReport.of(
        probe.keys().runId(),
        connector.target().address(),
        probe.clock(),
        end,
        attempts,
        verification,
        cluster);
  }

  private static boolean mayPassSoon(RuntimeException e) {
    return switch (ErrorKind.classify(e)) {
      case TIMEOUT, CONNECTION, LOADING, MASTERDOWN, CLUSTERDOWN, TRYAGAIN -> true;
      case TLS -> hasHandshakeTimeout(e);
      default -> false;
    };
  }

  private static boolean hasHandshakeTimeout(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SslHandshakeTimeoutException) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void close() {
    writes.close();
    reads.close();
  }
}
