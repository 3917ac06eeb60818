package io.valkeyk8s.testserver.probe;

import io.lettuce.core.SetArgs;
import io.valkeyk8s.testserver.ValkeyConnection;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes unique ids one after the other through one {@link ValkeyConnection} and records every
 * attempt in a {@link WriteLog}. Writes are sequential so the log is in send order and each window
 * of failures is bounded by acknowledged writes on both sides.
 */
public final class Probe implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(Probe.class);

  private final ProbeOptions options;
  private final ProbeKeys keys;
  private final ValkeyConnection connection;
  private final WriteLog log = new WriteLog();

  /** Restarted when writing starts, so a report's start is the first write. */
  private volatile ProbeClock clock = ProbeClock.start();

  private volatile boolean stopped;
  private String lastError;

  public Probe(ProbeOptions options, ProbeKeys keys, ValkeyConnection connection) {
    this.options = options;
    this.keys = keys;
    this.connection = connection;
  }

  @Override
  public void run() {
    clock = ProbeClock.start();
    long intervalNanos = options.interval().toNanos();
    long endNanos = options.duration() == null ? Long.MAX_VALUE : options.duration().toNanos();
    SetArgs args = options.keyTtl().isZero() ? new SetArgs() : SetArgs.Builder.px(options.keyTtl());
    boolean available = true;
    // Each kind's first message in a window is logged: a window's later kinds need a cause too.
    Set<ErrorKind> kindsLogged = EnumSet.noneOf(ErrorKind.class);
    for (long id = 1; id <= options.maxWrites() && !stopped; id++) {
      long start = clock.now();
      if (start >= endNanos) {
        break;
      }
      WriteAttempt attempt = write(id, start, args);
      log.add(attempt);
      if (attempt.isAcked() != available) {
        available = attempt.isAcked();
        if (available) {
          LOG.info("writes succeed again from id {}", id);
          kindsLogged.clear();
        } else {
          LOG.info("write {} failed ({}: {}): unavailable", id, attempt.error().label(), lastError);
          kindsLogged.add(attempt.error());
        }
      } else if (!available && kindsLogged.add(attempt.error())) {
        LOG.info(
            "write {} failed ({}: {}): still unavailable", id, attempt.error().label(), lastError);
      }
      LockSupport.parkNanos(start + intervalNanos - clock.now());
    }
    LOG.info("probe stopped after {} writes", log.size());
  }

  private WriteAttempt write(long id, long start, SetArgs args) {
    try {
      connection.call(redis -> redis.set(keys.key(id), keys.value(id), args));
      return WriteAttempt.acked(id, start, clock.now());
    } catch (RuntimeException e) {
      lastError = e.getMessage();
      return WriteAttempt.failed(id, start, clock.now(), ErrorKind.classify(e));
    }
  }

  /** Ends the write loop after the write in flight; safe from any thread. */
  public void stop() {
    stopped = true;
  }

  public boolean isStopped() {
    return stopped;
  }

  public WriteLog log() {
    return log;
  }

  public ProbeClock clock() {
    return clock;
  }

  public ProbeKeys keys() {
    return keys;
  }
}
