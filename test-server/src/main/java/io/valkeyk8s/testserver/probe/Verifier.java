package io.valkeyk8s.testserver.probe;

import io.lettuce.core.KeyValue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads every write of a run back in batches and counts the acknowledged ones that are gone. Reads
 * are retried until a deadline, because verification may start while a failover is still going on.
 */
public final class Verifier {
  private static final Logger LOG = LoggerFactory.getLogger(Verifier.class);
  static final int BATCH = 500;
  static final int MISSING_IDS_SHOWN = 20;

  private final ProbeKeys keys;
  private final Function<List<String>, List<KeyValue<String, String>>> mget;
  private final Duration timeout;
  private final Duration retryPause;

  /**
   * @param mget reads the given keys in one call (MGET); may throw while Valkey is unavailable
   * @param timeout how long to keep retrying reads before giving up on the rest
   */
  public Verifier(
      ProbeKeys keys,
      Function<List<String>, List<KeyValue<String, String>>> mget,
      Duration timeout,
      Duration retryPause) {
    this.keys = keys;
    this.mget = mget;
    this.timeout = timeout;
    this.retryPause = retryPause;
  }

  public Verification verify(List<WriteAttempt> attempts) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long checked = 0;
    long missing = 0;
    long failedButStored = 0;
    List<Long> missingIds = new ArrayList<>();
    long ackedTotal = attempts.stream().filter(WriteAttempt::isAcked).count();
    for (int from = 0; from < attempts.size(); from += BATCH) {
      List<WriteAttempt> batch = attempts.subList(from, Math.min(attempts.size(), from + BATCH));
      List<KeyValue<String, String>> values;
      try {
        values = readWithRetry(batch, deadline);
      } catch (RuntimeException e) {
        return new Verification(
            checked,
            missing,
            List.copyOf(missingIds),
            ackedTotal - checked,
            failedButStored,
            "could not read back writes: " + ErrorKind.classify(e).label() + ": " + e.getMessage());
      }
      for (int i = 0; i < batch.size(); i++) {
        WriteAttempt attempt = batch.get(i);
        KeyValue<String, String> value = values.get(i);
        boolean stored = value.hasValue() && keys.value(attempt.id()).equals(value.getValue());
        if (attempt.isAcked()) {
          checked++;
          if (!stored) {
            missing++;
            if (missingIds.size() < MISSING_IDS_SHOWN) {
              missingIds.add(attempt.id());
            }
          }
        } else if (stored) {
          failedButStored++;
        }
      }
    }
    return new Verification(checked, missing, List.copyOf(missingIds), 0, failedButStored, null);
  }

  private List<KeyValue<String, String>> readWithRetry(List<WriteAttempt> batch, long deadline) {
    List<String> batchKeys = batch.stream().map(a -> keys.key(a.id())).toList();
    while (true) {
      try {
        return mget.apply(batchKeys);
      } catch (RuntimeException e) {
        if (System.nanoTime() + retryPause.toNanos() >= deadline) {
          throw e;
        }
        LOG.info("read-back failed ({}), retrying", ErrorKind.classify(e).label());
        sleep(retryPause);
      }
    }
  }

  private static void sleep(Duration pause) {
    try {
      Thread.sleep(pause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while verifying", e);
    }
  }
}
