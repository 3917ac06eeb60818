package io.valkeyk8s.reconciler.sentinel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.valkeyk8s.reconciler.core.Config;
import io.valkeyk8s.reconciler.kube.Controller;
import io.valkeyk8s.reconciler.testing.LabelWatch;
import io.valkeyk8s.reconciler.testing.TestPods;
import io.valkeyk8s.testsupport.KubeApiServer;
import io.valkeyk8s.testsupport.LoopbackTls;
import io.valkeyk8s.testsupport.SentinelSet;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLSocket;

/**
 * One scenario's world: a Valkey set with Sentinels, a namespace with one pod per node (pod IP =
 * node address), a watch on the primary label, and in-process reconcilers, each with its own API
 * client; optionally all of it over TLS. Closing it stops everything and asserts nothing.
 */
final class SentinelScenario implements AutoCloseable {
  static final String LABEL = "valkey-master";
  static final Duration CONVERGE = Duration.ofSeconds(30);

  /** A finalizer that holds a deleted pod, as its grace period would (no kubelet runs here). */
  static final String HOLD = "test.valkeyk8s.io/hold";

  final KubeApiServer api;
  final KubernetesClient client;
  final SentinelSet valkey;
  final TestPods pods;
  final LabelWatch watch;
  final Optional<LoopbackTls> tls;
  private final List<Running> reconcilers = new ArrayList<>();

  record Running(Controller mode, KubernetesClient client) {}

  SentinelScenario(KubeApiServer api) throws Exception {
    this(api, 3, null);
  }

  /** The StatefulSet the pods belong to (an object only: no controller runs). */
  static final String SET = "valkey";

  /** With this many nodes (pods valkey-0 ... valkey-(size-1)), node 0 the primary. */
  SentinelScenario(KubeApiServer api, int size) throws Exception {
    this(api, size, null);
  }

  /**
   * The same over TLS only: servers, Sentinels, their links and the reconciler. Certificates name
   * each process's address and, like the chart's, every pod's stable DNS name.
   *
   * @param tlsAuthClients tls-auth-clients of the servers
   */
  SentinelScenario(KubeApiServer api, String tlsAuthClients) throws Exception {
    this(api, 3, tlsAuthClients);
  }

  /**
   * @param tlsAuthClients tls-auth-clients of the servers; null: no TLS
   */
  private SentinelScenario(KubeApiServer api, int size, String tlsAuthClients) throws Exception {
    this.api = api;
    this.client = api.newClient();
    this.pods = TestPods.inNewNamespace(client, "sentinel");
    this.tls =
        tlsAuthClients == null
            ? Optional.empty()
            : Optional.of(
                LoopbackTls.create(
                    Files.createTempDirectory("sentinel-tls"),
                    tlsAuthClients,
                    List.of(
                        "*."
                            + TestPods.SUBDOMAIN
                            + "."
                            + pods.namespace()
                            + ".svc.cluster.local")));
    SentinelSet set = null;
    try {
      set = tls.isPresent() ? SentinelSet.start(size, tls.get()) : SentinelSet.start(size);
      pods.statefulSet(SET, size);
      for (int i = 0; i < set.size(); i++) {
        pods.create(podName(i), set.ip(i));
      }
    } catch (Exception e) {
      if (set != null) {
        set.close();
      }
      client.close();
      throw e;
    }
    this.valkey = set;
    this.watch = new LabelWatch(client, pods.namespace(), LABEL, "true");
  }

  static String podName(int node) {
    return "valkey-" + node;
  }

  Map<String, String> env(String identity) {
    Map<String, String> env = new HashMap<>();
    env.put("POD_NAMESPACE", pods.namespace());
    env.put("VALKEY_SENTINEL_HOST", valkey.ip(0));
    env.put("VALKEY_SENTINEL_PORT", String.valueOf(valkey.sentinelPort()));
    env.put("VALKEY_SENTINEL_PASSWORD", valkey.users().sentinelPassword());
    env.put("VALKEY_MASTER_NAME", SentinelSet.MASTER);
    env.put("VALKEY_PASSWORD", valkey.users().adminPassword());
    env.put("VALKEY_PORT", String.valueOf(valkey.valkeyPort()));
    env.put("HTTP_PORT", "0");
    env.put("LEASE_NAME", "valkey-reconciler");
    env.put("LEASE_DURATION_SECONDS", "3");
    env.put("RESYNC_SECONDS", "2");
    env.put("POD_NAME", identity);
    tls.ifPresent(
        t -> {
          env.put("VALKEY_TLS", "true");
          env.put("VALKEY_TLS_CA_FILE", t.trustFile().toString());
          if (!"no".equals(t.authClients())) {
            env.put("VALKEY_TLS_CERT_FILE", t.clientCertificate()[0].toString());
            env.put("VALKEY_TLS_KEY_FILE", t.clientCertificate()[1].toString());
          }
        });
    return env;
  }

  /** A socket to node i's Valkey as an application's (TLS when the set speaks TLS). */
  Socket socketTo(int node) throws IOException {
    if (tls.isEmpty()) {
      return new Socket(valkey.ip(node), valkey.valkeyPort());
    }
    try {
      SslContextBuilder builder =
          SslContextBuilder.forClient()
              .sslProvider(SslProvider.JDK)
              .trustManager(tls.get().trustFile().toFile());
      if (!"no".equals(tls.get().authClients())) {
        builder.keyManager(
            tls.get().clientCertificate()[0].toFile(), tls.get().clientCertificate()[1].toFile());
      }
      SSLSocket socket =
          (SSLSocket)
              ((JdkSslContext) builder.build())
                  .context()
                  .getSocketFactory()
                  .createSocket(valkey.ip(node), valkey.valkeyPort());
      socket.startHandshake();
      return socket;
    } catch (javax.net.ssl.SSLException e) {
      throw new IOException(e);
    }
  }

  Controller startReconciler(String identity) throws Exception {
    return startReconciler(env(identity));
  }

  Controller startReconciler(Map<String, String> env) throws Exception {
    KubernetesClient own = api.newClient();
    Controller mode =
        SentinelCommand.controller(Config.fromEnv(env), Config.Sentinel.fromEnv(env), own);
    mode.start();
    reconcilers.add(new Running(mode, own));
    return mode;
  }

  void stopReconciler(Controller mode) throws InterruptedException {
    for (Running r : reconcilers) {
      if (r.mode() == mode) {
        r.mode().close();
        r.client().close();
      }
    }
    reconcilers.removeIf(r -> r.mode() == mode);
  }

  /** The pod of the node a majority of Sentinels names primary. */
  String sentinelPrimaryPod() {
    InetSocketAddress a =
        valkey.primaryBySentinels().orElseThrow(() -> new AssertionError("no Sentinel majority"));
    return podName(valkey.nodeOf(a.getHostString()));
  }

  /** Waits until the label sits on Sentinel's primary alone (that node saying it is master). */
  String awaitLabelOnSentinelPrimary() {
    String[] pod = new String[1];
    await()
        .atMost(CONVERGE)
        .pollInterval(Duration.ofMillis(50))
        .untilAsserted(
            () -> {
              String expected = sentinelPrimaryPod();
              assertThat(valkey.role(nodeOf(expected))).contains("master");
              assertThat(watch.labelledPods()).containsExactly(expected);
              pod[0] = expected;
            });
    return pod[0];
  }

  void assertNeverTwoLabelled() {
    assertThat(watch.violations()).isEmpty();
    assertThat(watch.maxLabelled()).isLessThanOrEqualTo(1);
  }

  static int nodeOf(String pod) {
    return Integer.parseInt(pod.substring(pod.lastIndexOf('-') + 1));
  }

  /**
   * Moves the primary to this node with a forced failover that picks it (the lowest
   * replica-priority wins, once every Sentinel has read it), then waits for the label there.
   */
  void movePrimaryTo(int node) {
    setPriorityAndAwaitSentinels(node, 1);
    assertThat(valkey.failoverBy(node)).isEqualTo("OK");
    await()
        .atMost(CONVERGE)
        .pollInterval(Duration.ofMillis(50))
        .until(() -> watch.labelledPods().equals(List.of(podName(node))));
    setPriorityAndAwaitSentinels(node, 100);
  }

  /** CONFIG SET replica-priority on a node, then waits until every Sentinel reports it. */
  void setPriorityAndAwaitSentinels(int node, int priority) {
    try (StatefulRedisConnection<String, String> c = valkey.connect(node)) {
      c.sync().configSet("replica-priority", String.valueOf(priority));
    }
    if (valkey.role(node).equals(java.util.Optional.of("master"))) {
      return; // Sentinels report replicas' priorities only
    }
    await()
        .atMost(CONVERGE)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              for (int i = 0; i < valkey.size(); i++) {
                boolean seen =
                    valkey.replicasKnownBy(i).stream()
                        .anyMatch(
                            r ->
                                valkey.ip(node).equals(r.get("ip"))
                                    && String.valueOf(priority).equals(r.get("slave-priority")));
                if (!seen) {
                  return false;
                }
              }
              return true;
            });
  }

  /** Waits until the Sentinels name a primary other than this node. */
  void awaitFailoverAwayFrom(int node) {
    await()
        .atMost(CONVERGE)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () ->
                valkey
                    .primaryBySentinels()
                    .map(a -> valkey.nodeOf(a.getHostString()) != node)
                    .orElse(false));
  }

  /**
   * Waits until every running Sentinel names the same primary other than this node with no failover
   * in progress (under load a second Sentinel may still fail over the dead primary in a later epoch
   * and replace the first one's pick), then for the label there.
   */
  String awaitSettledFailoverAwayFrom(int node) {
    await()
        .atMost(CONVERGE.multipliedBy(2))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () ->
                valkey
                    .primaryAllSentinelsSettledOn()
                    .map(a -> valkey.nodeOf(a.getHostString()) != node)
                    .orElse(false));
    return awaitLabelOnSentinelPrimary();
  }

  /** Starts a writer to whichever pod carries the label, as a client of the primary Service. */
  Writer startWriter() {
    return new Writer();
  }

  /** Writes keys k0, k1, ... to the labelled pod; remembers each acknowledged one. */
  final class Writer implements AutoCloseable {
    private final List<String> acknowledged = Collections.synchronizedList(new ArrayList<>());
    private final AtomicBoolean writing = new AtomicBoolean(true);
    private final Thread thread = Thread.ofPlatform().name("writer").start(this::run);

    int acknowledged() {
      return acknowledged.size();
    }

    /** Waits until n more writes than now were acknowledged. */
    void awaitMore(int n) {
      int from = acknowledged.size();
      await().atMost(CONVERGE).until(() -> acknowledged.size() >= from + n);
    }

    /** Stops, then lists the acknowledged keys the node the Sentinels name primary lacks. */
    List<String> stopAndFindMissing() throws InterruptedException {
      close();
      int primary = valkey.nodeOf(valkey.primaryBySentinels().orElseThrow().getHostString());
      List<String> missing = new ArrayList<>();
      try (StatefulRedisConnection<String, String> c = valkey.connect(primary)) {
        synchronized (acknowledged) {
          for (String key : acknowledged) {
            if (c.sync().exists(key) == 0) {
              missing.add(key);
            }
          }
        }
      }
      return missing;
    }

    private void run() {
      int seq = 0;
      StatefulRedisConnection<String, String> c = null;
      int target = -1;
      while (writing.get()) {
        try {
          var labelled = watch.labelledPod();
          if (labelled.isEmpty()) {
            Thread.sleep(5);
            continue;
          }
          int node = nodeOf(labelled.get());
          if (c == null || node != target) {
            if (c != null) {
              c.close();
            }
            c = valkey.connect(node);
            target = node;
          }
          String key = "k" + seq++;
          c.sync().set(key, "v");
          acknowledged.add(key);
        } catch (InterruptedException e) {
          return;
        } catch (RuntimeException e) {
          if (c != null) {
            c.close();
            c = null;
          }
        }
      }
      if (c != null) {
        c.close();
      }
    }

    @Override
    public void close() throws InterruptedException {
      writing.set(false);
      thread.join();
    }
  }

  /** Marks the pod terminating as a kubelet would leave it during its grace period. */
  void terminate(String pod) {
    client
        .pods()
        .inNamespace(pods.namespace())
        .withName(pod)
        .edit(p -> new PodBuilder(p).editMetadata().addToFinalizers(HOLD).endMetadata().build());
    client.pods().inNamespace(pods.namespace()).withName(pod).delete();
  }

  /**
   * Ends a terminating pod's grace period as its kubelet would once the containers stopped: the
   * finalizer removed, then deleted with grace period 0 (a scheduled pod otherwise stays
   * terminating until a kubelet confirms).
   */
  void releaseTerminating(String pod) {
    var resource = client.pods().inNamespace(pods.namespace()).withName(pod);
    resource.edit(
        p -> new PodBuilder(p).editMetadata().withFinalizers(List.of()).endMetadata().build());
    resource.withGracePeriod(0).delete();
    await().atMost(CONVERGE).until(() -> resource.get() == null);
  }

  @Override
  public void close() {
    for (Running r : reconcilers) {
      try {
        r.mode().close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      r.client().close();
    }
    reconcilers.clear();
    watch.close();
    valkey.close();
    client.close();
  }
}
