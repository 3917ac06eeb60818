package io.valkeyk8s.reconciler.sentinel;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.valkeyk8s.reconciler.core.Config;
import io.valkeyk8s.reconciler.core.ReconcileLoop;
import io.valkeyk8s.reconciler.core.WaitLog;
import io.valkeyk8s.reconciler.kube.Departures;
import io.valkeyk8s.reconciler.kube.EndpointSliceWriter;
import io.valkeyk8s.reconciler.kube.LabelWriter;
import io.valkeyk8s.reconciler.kube.Leadership;
import io.valkeyk8s.reconciler.kube.PodAddresses;
import io.valkeyk8s.reconciler.kube.PodIndex;
import io.valkeyk8s.reconciler.valkey.Address;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import io.valkeyk8s.reconciler.valkey.Role;
import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One level-triggered pass: read the truth (majority of the Sentinels, confirmed by ROLE on the
 * chosen node; during a planned handover this reconciler requested, the replica the failing-over
 * Sentinel promoted, also confirmed by ROLE), read the pods, converge. Break before make: every
 * other labelled pod loses the label (the labelled pods are listed from the API server, not the
 * cache, so a cache that lags behind our own last write cannot hide one) before the primary gets
 * it. With an owned EndpointSlice, it is switched to the primary at the same point, in one update
 * (or emptied when the Sentinels' primary is no primary). Nothing is written unless this replica
 * leads, the truth is fresh and the pod cache is watching.
 */
final class PrimaryReconciler implements ReconcileLoop.Pass<String> {
  private static final Logger log = LoggerFactory.getLogger(PrimaryReconciler.class);
  private static final Duration SOON = Duration.ofMillis(200);
  private static final Duration LATER = Duration.ofSeconds(1);

  /** While a handover waits for the Sentinel to exclude the departing replicas. */
  private static final Duration PREPARING = Duration.ofMillis(50);

  /** While a planned handover runs: catch the promotion the moment the node reports it. */
  private static final Duration FOLLOWING = Duration.ofMillis(20);

  private final Config config;
  private final Config.Sentinel sentinel;
  private final KubernetesClient client;
  private final PodIndex pods;
  private final LabelWriter labels;
  private final Sentinels sentinels;
  private final NodeClients nodes;
  private final Leadership leadership;
  private final SwitchClock clock;
  private final SentinelMetrics metrics;
  private final Fencer fencer;
  private final Handover handover;
  private final SentinelTableReset tables;
  private final Departures departures;
  private final Optional<FastFailover> fastFailover;
  private final Optional<EndpointSliceWriter> slice;
  private volatile boolean truthFresh;
  private final WaitLog waits = new WaitLog(log);
  private Address lastPrimary;

  /** The last pass could not write the slice (changed meanwhile, refused, no Service yet). */
  private boolean sliceBehind;

  PrimaryReconciler(
      Config config,
      Config.Sentinel sentinel,
      KubernetesClient client,
      PodIndex pods,
      LabelWriter labels,
      Sentinels sentinels,
      NodeClients nodes,
      Leadership leadership,
      SwitchClock clock,
      SentinelMetrics metrics,
      RefusedConnection refusals) {
    this.config = config;
    this.sentinel = sentinel;
    this.client = client;
    this.pods = pods;
    this.labels = labels;
    this.sentinels = sentinels;
    this.nodes = nodes;
    this.leadership = leadership;
    this.clock = clock;
    this.metrics = metrics;
    this.fencer =
        new Fencer(
            nodes, metrics, node -> pods.byAddress(node.host()).map(p -> p.getMetadata().getUid()));
    this.departures = new Departures(client, config.namespace());
    this.handover =
        new Handover(
            nodes,
            sentinels,
            metrics,
            this::leavingNow,
            this::restartRank,
            sentinel.handoverFailover(),
            sentinel.kubeProxyMinSync());
    this.tables = new SentinelTableReset(sentinels, pods, metrics);
    this.fastFailover =
        sentinel.fastFailover()
            ? Optional.of(new FastFailover(sentinels, nodes, pods, metrics, refusals))
            : Optional.empty();
    this.slice =
        sentinel
            .primarySlice()
            .map(s -> new EndpointSliceWriter(client, config.namespace(), s, config.valkeyPort()));
  }

  /** True when the last pass got a majority answer from the Sentinels. */
  boolean truthFresh() {
    return truthFresh;
  }

  @Override
  public Optional<Duration> reconcile(String key) throws Exception {
    try {
      Optional<Duration> next = converge();
      if (sliceBehind && next.map(d -> d.compareTo(SOON) > 0).orElse(true)) {
        return Optional.of(SOON); // retry the slice soon, whatever else the pass decided
      }
      return next;
    } finally {
      waits.passEnded();
    }
  }

  private Optional<Duration> converge() throws Exception {
    sliceBehind = false;
    Sentinels.Truth truth = sentinels.ask();
    Optional<Address> handedOver = handover.promoted(truth.primary());
    Optional<Address> promotedAfterCrash =
        handedOver.isPresent()
            ? Optional.empty()
            : fastFailover.flatMap(f -> f.promoted(truth.primary()));
    truthFresh =
        truth.primary().isPresent() || handedOver.isPresent() || promotedAfterCrash.isPresent();
    if (!truthFresh) {
      waits.waiting(
          "action=wait reason=\"no majority of Sentinels agrees on a primary\" "
              + truth.describe());
      return Optional.of(following() ? FOLLOWING : LATER);
    }
    if (!leadership.isLeader()) {
      return Optional.empty();
    }
    if (!pods.hasSynced() || !pods.isWatching()) {
      waits.waiting("action=wait reason=\"pod cache not watching the API server\"");
      return Optional.of(LATER);
    }
    Address primary =
        handedOver.or(() -> promotedAfterCrash).orElseGet(() -> truth.primary().get());
    fastFailover.ifPresent(f -> f.observeAllBut(pods.byAddress(primary.host()), pods.pods()));
    if (handedOver.isEmpty() && promotedAfterCrash.isEmpty() && crashed(primary)) {
      return Optional.of(FOLLOWING); // the Sentinels announce the switch in a second or two
    }
    if (promotedAfterCrash.isEmpty()
        && fastFailover.map(f -> f.awaitsPromotionAway(primary)).orElse(false)) {
      waits.waiting(
          "action=wait node="
              + primary
              + " reason=\"crashed: waiting for the failing-over Sentinel's promotion\"");
      return Optional.of(FOLLOWING); // no ROLE: a dead node may make it wait for its timeout
    }
    Role role;
    try {
      role = nodes.at(primary).role();
    } catch (RuntimeException e) {
      waits.waiting(
          "action=wait node="
              + primary
              + " reason=\"cannot confirm the Sentinels' primary with ROLE: "
              + e.getMessage()
              + "\"");
      return Optional.of(following() ? FOLLOWING : SOON);
    }
    if (!role.isPrimary()) {
      // Not writable: no endpoint is better than a READONLY one (clients reconnect and retry).
      emptySlice(primary + " says ROLE " + role.role());
      waits.waiting(
          "action=wait node="
              + primary
              + " role="
              + role.role()
              + " reason=\"the Sentinels' primary does not say it is one\"");
      return Optional.of(following() ? FOLLOWING : SOON);
    }
    if (lastPrimary != null && !lastPrimary.equals(primary)) {
      metrics.failovers.increment();
      fencer.demoted(lastPrimary);
    }
    lastPrimary = primary;

    Optional<Pod> primaryPod = pods.byAddress(primary.host());
    String why =
        handedOver.isPresent()
            ? "planned handover: the failing-over Sentinel promoted "
                + primary
                + " and it says ROLE master"
            : promotedAfterCrash.isPresent()
                ? "crash fast path: the failing-over Sentinel promoted "
                    + primary
                    + " and it says ROLE master"
                : "Sentinel majority "
                    + truth.votes().get(primary)
                    + "/"
                    + truth.asked()
                    + " and ROLE master at "
                    + primary;
    // The slice first: it routes the Service, in one update from the old primary to the new, and
    // needs no label removed before it (that cost the route 50-100 ms). A slice not written holds
    // back nothing.
    if (primaryPod.isPresent() && slice.isPresent() && leadership.isLeader()) {
      sliceBehind = !slice.get().converge(primaryPod, "Valkey primary (" + why + ")");
      if (!sliceBehind) {
        handover.routed();
      }
    }
    List<Pod> others = labelledOthers(primaryPod);
    if (!others.isEmpty() && !unlabel(others, primary, why)) {
      if (!labelledOthers(primaryPod).isEmpty()) {
        return Optional.of(SOON); // not every removal went through: never make before break
      }
    }
    if (primaryPod.isEmpty()) {
      emptySlice("the primary " + primary + " matches no pod");
      waits.waiting("action=wait node=" + primary + " reason=\"the primary matches no pod\"");
      return Optional.of(LATER);
    }
    Pod pod = primaryPod.get();
    if (!hasLabel(pod) && leadership.isLeader()) {
      if (labels.write(
          pod,
          Map.of(sentinel.labelName(), sentinel.labelValue()),
          "PrimaryLabelAdded",
          "Valkey primary (" + why + ")")) {
        metrics.labelsAdded.increment();
        Optional<Long> switchedAt = clock.settle(primary);
        if (switchedAt.isPresent()) {
          metrics.labelMove.record(System.nanoTime() - switchedAt.get(), TimeUnit.NANOSECONDS);
        } else if (handedOver.isPresent() || promotedAfterCrash.isPresent()) {
          // Labelled on the promotion itself, before any Sentinel announced the switch: the
          // label waited 0 s for it (a first labelling at start has no switch and counts none).
          metrics.labelMove.record(Duration.ZERO);
        }
        log.info(
            "action=label pod={} from=absent to={}={} since_switch_ms={} reason=\"{}\"",
            pod.getMetadata().getName(),
            sentinel.labelName(),
            sentinel.labelValue(),
            switchedAt.map(t -> String.valueOf((System.nanoTime() - t) / 1_000_000)).orElse("-"),
            why);
      } else {
        return Optional.of(SOON); // recreated or gone since the cache saw it
      }
    }
    handover.routed(); // with the label as the route, once it moved
    clock.settle(primary);
    if (isShuttingDown(pod)) {
      boolean preparing = handover.start(pod, primary);
      return Optional.of(handover.following() ? FOLLOWING : preparing ? PREPARING : SOON);
    }
    boolean fencing = fencer.run(primary);
    if (following()) {
      return Optional.of(
          FOLLOWING); // also fences clients that reconnect to the old primary meanwhile
    }
    Optional<Duration> next = tables.converge(primary);
    if (fencing && next.map(d -> d.compareTo(LATER) > 0).orElse(true)) {
      return Optional.of(LATER);
    }
    return next;
  }

  /** Leaves the owned slice without endpoint (only a leader writes). */
  private void emptySlice(String why) {
    if (slice.isPresent() && leadership.isLeader()) {
      sliceBehind = !slice.get().converge(Optional.empty(), why);
    }
  }

  /** A failover this reconciler requested (planned handover or crash) is being followed. */
  private boolean following() {
    return handover.following() || fastFailover.map(FastFailover::following).orElse(false);
  }

  /**
   * The crash fast path, before ROLE (a dead primary does not answer it): only for the labelled pod
   * of the majority's primary, never for one a handover is moving, nor a terminating or vanished
   * pod. True when a failover was requested now.
   */
  private boolean crashed(Address primary) {
    if (fastFailover.isEmpty() || handover.following() || fastFailover.get().following()) {
      return false;
    }
    return pods.byAddress(primary.host())
        .filter(this::hasLabel)
        .filter(p -> !Departures.isTerminating(p))
        .map(p -> fastFailover.get().check(primary, p))
        .orElse(false);
  }

  /**
   * Decided now: true for a node or Sentinel whose pod is terminating or about to be removed by a
   * scale-down, or that matches no pod.
   */
  private ToIntFunction<Address> restartRank() {
    ToIntFunction<Pod> rank = departures.restartRank(pods.pods());
    return address -> pods.byAddress(address.host()).map(rank::applyAsInt).orElse(0);
  }

  private Predicate<Address> leavingNow() {
    Predicate<Pod> departing = departures.now(pods.pods());
    return address -> pods.byAddress(address.host()).map(departing::test).orElse(true);
  }

  /** Labelled pods other than the primary, listed from the API server (not the cache). */
  private List<Pod> labelledOthers(Optional<Pod> primaryPod) {
    Map<String, String> selector = new HashMap<>(config.podSelector());
    selector.put(sentinel.labelName(), sentinel.labelValue());
    String primaryUid = primaryPod.map(p -> p.getMetadata().getUid()).orElse("");
    return client
        .pods()
        .inNamespace(config.namespace())
        .withLabels(selector)
        .list()
        .getItems()
        .stream()
        .filter(p -> !p.getMetadata().getUid().equals(primaryUid))
        .toList();
  }

  /** Removes the label from each pod; true when every removal was confirmed by the API server. */
  private boolean unlabel(List<Pod> others, Address primary, String why) {
    boolean confirmed = true;
    for (Pod other : others) {
      if (!leadership.isLeader()) {
        return false;
      }
      if (!labels.write(
          other,
          Collections.singletonMap(sentinel.labelName(), null),
          "PrimaryLabelRemoved",
          "not the Valkey primary (" + why + ")")) {
        confirmed = false;
      } else {
        metrics.labelsRemoved.increment();
        log.info(
            "action=unlabel pod={} from={}={} to=absent reason=\"primary is {}: {}\"",
            other.getMetadata().getName(),
            sentinel.labelName(),
            sentinel.labelValue(),
            primary,
            why);
      }
      String ip = other.getStatus() == null ? null : other.getStatus().getPodIP();
      if (ip != null && !ip.equals(primary.host())) {
        // Over TLS by the pod's stable name: certificates name pods, not their IPs.
        String host =
            config.tls().enabled()
                ? PodAddresses.stableName(other, config.tls().clusterDomain()).orElse(ip)
                : ip;
        fencer.demoted(new Address(host, primary.port()));
      }
    }
    return confirmed;
  }

  /**
   * Terminating with a grace period: its preStop hook runs and the process has time to hand over. A
   * forced deletion (grace period 0) kills it at once; Sentinel's failover follows.
   */
  private static boolean isShuttingDown(Pod pod) {
    Long grace = pod.getMetadata().getDeletionGracePeriodSeconds();
    return pod.getMetadata().getDeletionTimestamp() != null && (grace == null || grace > 0);
  }

  private boolean hasLabel(Pod pod) {
    Map<String, String> l = pod.getMetadata().getLabels();
    return l != null && sentinel.labelValue().equals(l.get(sentinel.labelName()));
  }
}
