package io.valkeyk8s.testserver.probe;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisConnectionException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** The read-back accounting, over an in-memory key space standing in for the primary. */
class VerifierTest {
  private final ProbeKeys keys = new ProbeKeys("run1");
  private final Map<String, String> stored = new HashMap<>();

  private Function<List<String>, List<KeyValue<String, String>>> mgetFromMap() {
    return requested ->
        requested.stream()
            .map(
                k ->
                    stored.containsKey(k)
                        ? KeyValue.just(k, stored.get(k))
                        : KeyValue.<String, String>empty(k))
            .toList();
  }

  private Verifier verifier(Function<List<String>, List<KeyValue<String, String>>> mget) {
    return new Verifier(keys, mget, Duration.ofSeconds(2), Duration.ofMillis(10));
  }

  /** Acknowledged writes 1..n, all stored. */
  private List<WriteAttempt> ackedAndStored(int n) {
    List<WriteAttempt> attempts = new ArrayList<>();
    for (long id = 1; id <= n; id++) {
      attempts.add(WriteAttempt.acked(id, id, id + 1));
      stored.put(keys.key(id), keys.value(id));
    }
    return attempts;
  }

  @Test
  void everyAcknowledgedWriteFoundMeansNothingMissing() {
    Verification v = verifier(mgetFromMap()).verify(ackedAndStored(1234));

    assertThat(v.checkedAcked()).isEqualTo(1234);
    assertThat(v.missingAcked()).isZero();
    assertThat(v.complete()).isTrue();
  }

  @Test
  void absentOrOverwrittenAcknowledgedWritesAreMissing() {
    List<WriteAttempt> attempts = ackedAndStored(1200);
    stored.remove(keys.key(7));
    stored.remove(keys.key(1100));
    stored.put(keys.key(600), "someone else's value");

    Verification v = verifier(mgetFromMap()).verify(attempts);

    assertThat(v.missingAcked()).isEqualTo(3);
    assertThat(v.missingIds()).containsExactly(7L, 600L, 1100L);
    assertThat(v.complete()).isTrue();
  }

  @Test
  void failedWritesAreNotMissingButCountedWhenStoredAnyway() {
    List<WriteAttempt> attempts = new ArrayList<>(ackedAndStored(3));
    attempts.add(WriteAttempt.failed(4, 10, 20, ErrorKind.TIMEOUT));
    stored.put(keys.key(4), keys.value(4));
    attempts.add(WriteAttempt.failed(5, 30, 40, ErrorKind.CONNECTION));

    Verification v = verifier(mgetFromMap()).verify(attempts);

    assertThat(v.missingAcked()).isZero();
    assertThat(v.checkedAcked()).isEqualTo(3);
    assertThat(v.failedButStored()).isEqualTo(1);
  }

  @Test
  void readsAreRetriedWhileValkeyIsUnavailable() {
    AtomicInteger calls = new AtomicInteger();
    Function<List<String>, List<KeyValue<String, String>>> flaky =
        requested -> {
          if (calls.incrementAndGet() <= 3) {
            throw new RedisConnectionException("Connection refused");
          }
          return mgetFromMap().apply(requested);
        };

    Verification v = verifier(flaky).verify(ackedAndStored(10));

    assertThat(v.complete()).isTrue();
    assertThat(v.checkedAcked()).isEqualTo(10);
  }

  @Test
  void readsThatNeverSucceedLeaveWritesUnverifiedNotMissing() {
    Function<List<String>, List<KeyValue<String, String>>> down =
        requested -> {
          throw new RedisConnectionException("Connection refused");
        };
    Verifier verifier = new Verifier(keys, down, Duration.ofMillis(100), Duration.ofMillis(10));

    Verification v = verifier.verify(ackedAndStored(10));

    assertThat(v.complete()).isFalse();
    assertThat(v.missingAcked()).isZero();
    assertThat(v.unverifiedAcked()).isEqualTo(10);
    assertThat(v.error()).contains("connection");
  }
}
