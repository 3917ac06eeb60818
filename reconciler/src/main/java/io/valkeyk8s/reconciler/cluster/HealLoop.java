package io.valkeyk8s.reconciler.cluster;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link ClusterHealer} passes: at every resync interval and whenever a pod changes ({@link
 * #wake()}). Exposes liveness, readiness and Prometheus metrics.
 */
public final class HealLoop implements ClusterHealth {
  private static final Logger LOG = LoggerFactory.getLogger(HealLoop.class);

  private final ClusterHealer healer;
  private final Duration interval;
  private final Semaphore wakeups = new Semaphore(0);
  private final AtomicLong lastPassEnd = new AtomicLong(System.nanoTime());
  private final AtomicInteger clusterOk = new AtomicInteger();
  private final AtomicInteger reachable = new AtomicInteger();
  private volatile boolean running;
  private volatile boolean lastPassCompleted;
  private final Timer passTimer;
  private final Counter meets;
  private final Counter forgets;
  private final Counter labelChanges;
  private final Counter adoptions;
  private final Counter failedPasses;

  public HealLoop(ClusterHealer healer, Duration interval, MeterRegistry registry) {
    this.healer = healer;
    this.interval = interval;
    this.passTimer =
        Timer.builder("valkey_cluster_heal_pass")
            .description("Duration of one healing pass")
            .register(registry);
    this.meets =
        Counter.builder("valkey_cluster_meets")
            .description("CLUSTER MEET sent to re-join nodes")
            .register(registry);
    this.forgets =
        Counter.builder("valkey_cluster_forgets")
            .description("CLUSTER FORGET of vanished nodes")
            .register(registry);
    this.labelChanges =
        Counter.builder("valkey_cluster_label_changes")
            .description("Pods relabelled with valkey-role/valkey-shard")
            .register(registry);
    this.adoptions =
        Counter.builder("valkey_cluster_adoptions")
            .description(
                "Fresh or empty nodes met and attached as replicas of their shard's primary")
            .register(registry);
    this.failedPasses =
        Counter.builder("valkey_cluster_heal_failures")
            .description("Healing passes that threw")
            .register(registry);
    registry.gauge("valkey_cluster_state_ok", clusterOk);
    registry.gauge("valkey_cluster_nodes_reachable", reachable);
  }

  /** Asks for a pass now; safe from any thread (watch callbacks only call this). */
  public void wake() {
    wakeups.release();
  }

  /** One pass, with metrics; never throws. */
  public void runOnce() {
    long start = System.nanoTime();
    try {
      ClusterHealer.PassResult r = healer.pass();
      meets.increment(r.meets());
      forgets.increment(r.forgets());
      labelChanges.increment(r.labelChanges());
      adoptions.increment(r.adoptions());
      clusterOk.set(r.clusterOk() ? 1 : 0);
      reachable.set(r.reachable());
      lastPassCompleted = true;
      if (r.meets() + r.forgets() + r.adoptions() + r.labelChanges() > 0 || !r.clusterOk()) {
        LOG.info("heal pass: {}", r);
      }
    } catch (RuntimeException e) {
      lastPassCompleted = false;
      failedPasses.increment();
      LOG.warn("heal pass failed: {}", e.getMessage());
    } finally {
      passTimer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      lastPassEnd.set(System.nanoTime());
    }
  }

  /**
   * Loops until the thread is interrupted. Passes run only while active says so (leader election: a
   * standby replica of the Deployment stays alive and ready but does not act).
   */
  public void run(BooleanSupplier active) {
    running = true;
    try {
      while (!Thread.currentThread().isInterrupted()) {
        if (active.getAsBoolean()) {
          runOnce();
        } else {
          lastPassEnd.set(System.nanoTime());
          lastPassCompleted = true;
        }
        try {
          if (wakeups.tryAcquire(interval.toMillis(), TimeUnit.MILLISECONDS)) {
            wakeups.drainPermits(); // many pod events, one pass
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    } finally {
      running = false;
    }
  }

  @Override
  public boolean alive() {
    long sinceLast = System.nanoTime() - lastPassEnd.get();
    return running && sinceLast < interval.multipliedBy(6).plusMinutes(2).toNanos();
  }

  @Override
  public boolean ready() {
    return running && lastPassCompleted;
  }
}
