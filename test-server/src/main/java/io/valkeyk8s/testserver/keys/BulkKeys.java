package io.valkeyk8s.testserver.keys;

import io.lettuce.core.RedisFuture;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.valkeyk8s.testserver.ValkeyConnection;
import io.valkeyk8s.testserver.probe.ErrorKind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.LongConsumer;
import java.util.stream.LongStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes and checks many keys {@code <prefix>:1 .. <prefix>:<count>} quickly: one command per key,
 * {@value #BATCH} of them pipelined at a time (Lettuce routes each to its slot's primary in cluster
 * mode and follows MOVED and ASK, so this also works while slots migrate). Keys whose command
 * failed are retried until {@code retryFor} has passed since the batch began; a batch that still
 * fails then ends the run, the keys after it untried.
 */
public final class BulkKeys {
  private static final Logger LOG = LoggerFactory.getLogger(BulkKeys.class);
  static final int BATCH = 1000;
  static final int EXAMPLES = 5;
  private static final Duration RETRY_PAUSE = Duration.ofMillis(200);
  private static final Duration PROGRESS_EVERY = Duration.ofSeconds(2);

  private final ValkeyConnection connection;
  private final String prefix;
  private final int valueSize;
  private final Duration retryFor;

  public BulkKeys(ValkeyConnection connection, String prefix, int valueSize, Duration retryFor) {
    this.connection = connection;
    this.prefix = prefix;
    this.valueSize = valueSize;
    this.retryFor = retryFor;
  }

  public String key(long n) {
    return prefix + ":" + n;
  }

  /**
   * The value of key {@code n}: {@code <n>:} and filler up to {@code size} characters (at least
   * {@code <n>:}). It depends on {@code n}, so a key holding another key's value is caught.
   */
  public static String value(long n, int size) {
    StringBuilder value = new StringBuilder(Math.max(size, 24)).append(n).append(':');
    String filler = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (int i = (int) (n % filler.length()); value.length() < size; i++) {
      value.append(filler.charAt(i % filler.length()));
    }
    return value.toString();
  }

  /** What {@link #load} did. */
  public record Loaded(long written, long failed, String error, Duration took) {}

  /** What {@link #check} found; {@code examples} are the first few problems. */
  public record Checked(
      long ok,
      long missing,
      long wrong,
      long unread,
      List<String> examples,
      String error,
      Duration took) {}

  public Loaded load(long count) {
    long started = System.nanoTime();
    long[] failed = {0};
    String error =
        forEachBatch(
            count,
            "written",
            (redis, n) -> redis.set(key(n), value(n, valueSize)),
            (n, reply) -> {},
            unwritten -> failed[0] += unwritten);
    return new Loaded(count - failed[0], failed[0], error, since(started));
  }

  public Checked check(long count) {
    long started = System.nanoTime();
    long[] counts = new long[4]; // ok, missing, wrong, unread
    List<String> examples = new ArrayList<>();
    String error =
        forEachBatch(
            count,
            "checked",
            (redis, n) -> redis.get(key(n)),
            (n, value) -> {
              String expected = value(n, valueSize);
              if (expected.equals(value)) {
                counts[0]++;
                return;
              }
              counts[value == null ? 1 : 2]++;
              if (examples.size() < EXAMPLES) {
                examples.add(
                    value == null
                        ? key(n) + " missing"
                        : key(n)
                            + " wrong ("
                            + shorten(value)
                            + ", expected "
                            + shorten(expected)
                            + ")");
              }
            },
            unread -> counts[3] += unread);
    return new Checked(
        counts[0], counts[1], counts[2], counts[3], List.copyOf(examples), error, since(started));
  }

  /**
   * Runs {@code command} for every key in batches. A batch that cannot be completed within {@code
   * retryFor} ends the run: its failed keys and all keys after it are given up on (counted by
   * {@code givenUp}), and its error is returned; {@code null} when every key went through.
   */
  private <T> String forEachBatch(
      long count,
      String verb,
      BiFunction<RedisClusterAsyncCommands<String, String>, Long, RedisFuture<T>> command,
      BiConsumer<Long, T> onReply,
      LongConsumer givenUp) {
    long nextProgress = System.nanoTime() + PROGRESS_EVERY.toNanos();
    for (long from = 1; from <= count; from += BATCH) {
      long to = Math.min(count, from + BATCH - 1);
      String error =
          runBatch(LongStream.rangeClosed(from, to).boxed().toList(), command, onReply, givenUp);
      if (error != null) {
        givenUp.accept(count - to);
        return error;
      }
      if (System.nanoTime() > nextProgress) {
        LOG.info("{} {} of {} keys", verb, to, count);
        nextProgress = System.nanoTime() + PROGRESS_EVERY.toNanos();
      }
    }
    return null;
  }

  private <T> String runBatch(
      List<Long> batch,
      BiFunction<RedisClusterAsyncCommands<String, String>, Long, RedisFuture<T>> command,
      BiConsumer<Long, T> onReply,
      LongConsumer givenUp) {
    long deadline = System.nanoTime() + retryFor.toNanos();
    List<Long> pending = batch;
    while (true) {
      List<Long> failed = new ArrayList<>();
      Throwable failure = null;
      List<RedisFuture<T>> futures;
      try {
        List<Long> keys = pending;
        futures =
            connection.pipeline(redis -> keys.stream().map(n -> command.apply(redis, n)).toList());
      } catch (RuntimeException e) {
        futures = null;
        failure = e;
        failed = pending;
      }
      for (int i = 0; futures != null && i < futures.size(); i++) {
        try {
          onReply.accept(pending.get(i), futures.get(i).get());
        } catch (ExecutionException e) {
          failed.add(pending.get(i));
          failure = e.getCause();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted", e);
        }
      }
      if (failed.isEmpty()) {
        return null;
      }
      connection.dropAfter(failure);
      String error = ErrorKind.classify(failure).label() + ": " + failure.getMessage();
      if (System.nanoTime() + RETRY_PAUSE.toNanos() >= deadline) {
        givenUp.accept(failed.size());
        return error;
      }
      LOG.info("{} keys failed ({}), retrying", failed.size(), error);
      sleep(RETRY_PAUSE);
      pending = failed;
    }
  }

  private static String shorten(String value) {
    return value.length() <= 40 ? '"' + value + '"' : '"' + value.substring(0, 37) + "...\"";
  }

  private static Duration since(long startNanos) {
    return Duration.ofNanos(System.nanoTime() - startNanos);
  }

  private static void sleep(Duration pause) {
    try {
      Thread.sleep(pause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
