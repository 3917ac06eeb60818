package io.valkeyk8s.reconciler.core;

import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A de-duplicating queue of keys: adding a key that is already waiting is a no-op, so a burst of
 * events becomes one reconcile. Event callbacks only add; one loop takes. Delayed adds implement
 * retries with backoff and the periodic resync.
 */
public final class WorkQueue<K> implements AutoCloseable {
  private final LinkedHashSet<K> waiting = new LinkedHashSet<>();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition notEmpty = lock.newCondition();
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          r -> Thread.ofPlatform().daemon().name("workqueue-timer").unstarted(r));
  private final Map<K, Delayed> delayed = new HashMap<>();
  private boolean closed;

  public void add(K key) {
    lock.lock();
    try {
      if (!closed && waiting.add(key)) {
        notEmpty.signal();
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Adds the key after the delay. At most one delayed add per key is pending, the earliest: a later
   * one is dropped (the pass the earlier one starts asks again for what it still needs), so that
   * passes woken by events in between do not each start a chain of their own.
   */
  public void addAfter(K key, Duration delay) {
    if (delay.isZero() || delay.isNegative()) {
      add(key);
      return;
    }
    long due = System.nanoTime() + delay.toNanos();
    lock.lock();
    try {
      Delayed pending = delayed.get(key);
      if (closed || pending != null && pending.dueNanos() - due <= 0) {
        return;
      }
      if (pending != null) {
        pending.future().cancel(false);
      }
      Delayed[] self = new Delayed[1];
      ScheduledFuture<?> future =
          timer.schedule(
              () -> {
                lock.lock();
                try {
                  delayed.remove(key, self[0]);
                } finally {
                  lock.unlock();
                }
                add(key);
              },
              delay.toNanos(),
              TimeUnit.NANOSECONDS);
      self[0] = new Delayed(due, future);
      delayed.put(key, self[0]);
    } catch (RejectedExecutionException closedAlready) {
      // closed: nothing more to do
    } finally {
      lock.unlock();
    }
  }

  private record Delayed(long dueNanos, ScheduledFuture<?> future) {}

  /** Adds the key now and then every period until the queue is closed. */
  public void addEvery(K key, Duration period) {
    timer.scheduleWithFixedDelay(
        () -> add(key), period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Waits up to the timeout for a key; empty on timeout or when closed. */
  public Optional<K> take(Duration timeout) throws InterruptedException {
    long nanos = timeout.toNanos();
    lock.lock();
    try {
      while (waiting.isEmpty() && !closed) {
        if (nanos <= 0) {
          return Optional.empty();
        }
        nanos = notEmpty.awaitNanos(nanos);
      }
      if (closed) {
        return Optional.empty();
      }
      K key = waiting.iterator().next();
      waiting.remove(key);
      return Optional.of(key);
    } finally {
      lock.unlock();
    }
  }

  public boolean isClosed() {
    lock.lock();
    try {
      return closed;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    lock.lock();
    try {
      closed = true;
      waiting.clear();
      notEmpty.signalAll();
    } finally {
      lock.unlock();
    }
    timer.shutdownNow();
  }
}
