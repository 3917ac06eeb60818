package io.valkeyk8s.reconciler.core;

import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one loop that takes keys from the queue and reconciles them, one at a time. A failed pass is
 * retried with backoff; a pass may ask to be repeated after a delay. Liveness fails if a pass hangs
 * far longer than any pass should.
 */
public final class ReconcileLoop<K> implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ReconcileLoop.class);

  /** One reconcile pass for a key. Returns a delay to run again, or empty when converged. */
  @FunctionalInterface
  public interface Pass<K> {
    Optional<Duration> reconcile(K key) throws Exception;
  }

  private final WorkQueue<K> queue;
  private final Pass<K> pass;
  private final Backoff backoff = new Backoff(Duration.ofMillis(200), Duration.ofSeconds(10));
  private final Duration stuckAfter;
  private volatile long passStartedNanos;
  private volatile boolean inPass;
  private volatile Thread thread;

  public ReconcileLoop(WorkQueue<K> queue, Pass<K> pass, Duration stuckAfter) {
    this.queue = queue;
    this.pass = pass;
    this.stuckAfter = stuckAfter;
  }

  public void start() {
    thread = Thread.ofPlatform().name("reconcile-loop").start(this::run);
  }

  private void run() {
    while (!queue.isClosed()) {
      Optional<K> key;
      try {
        key = queue.take(Duration.ofSeconds(1));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      if (key.isEmpty()) {
        continue;
      }
      passStartedNanos = System.nanoTime();
      inPass = true;
      try {
        Optional<Duration> again = pass.reconcile(key.get());
        backoff.reset();
        again.ifPresent(delay -> queue.addAfter(key.get(), delay));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (Exception e) {
        Duration delay = backoff.nextDelay();
        log.warn(
            "action=retry key={} in={}ms error=\"{}\"", key.get(), delay.toMillis(), oneLine(e));
        queue.addAfter(key.get(), delay);
      } finally {
        inPass = false;
      }
    }
  }

  /** False when the loop thread died or one pass has run longer than stuckAfter. */
  public boolean isAlive() {
    Thread t = thread;
    boolean stuck = inPass && System.nanoTime() - passStartedNanos > stuckAfter.toNanos();
    return t != null && t.isAlive() && !stuck;
  }

  static String oneLine(Throwable e) {
    String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return message.replace('\n', ' ').replace('"', '\'');
  }

  @Override
  public void close() throws InterruptedException {
    queue.close();
    Thread t = thread;
    if (t != null) {
      t.interrupt();
      t.join(5000);
    }
  }
}
