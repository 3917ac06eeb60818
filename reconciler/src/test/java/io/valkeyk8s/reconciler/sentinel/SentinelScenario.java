package io.valkeyk8s.reconciler.sentinel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLSocket;

/**
 * One scenario's world: a Valkey set with Sentinels, a namespace with one pod per node (pod IP =
 * node address), a watch on the primary label, and in-process reconcilers, each with its own API
 * client; optionally all of it over TLS. Closing it stops everything and asserts nothing.
 */
final class SentinelScenario implements AutoCloseable {
  static final String LABEL = "valkey-master";
  static final Duration CONVERGE = Duration.ofSeconds(30);

  final KubeApiServer api;
  final KubernetesClient client;
  final SentinelSet valkey;
  final TestPods pods;
  final LabelWatch watch;
  final Optional<LoopbackTls> tls;
  private final List<Running> reconcilers = new ArrayList<>();

  record Running(Controller mode, KubernetesClient client) {}

  SentinelScenario(KubeApiServer api) throws Exception {
    this(api, null);
  }

  /**
   * The same over TLS only: servers, Sentinels, their links and the reconciler. Certificates name
   * each process's address and, like the chart's, every pod's stable DNS name.
   *
   * @param tlsAuthClients tls-auth-clients of the servers; null: no TLS
   */
  SentinelScenario(KubeApiServer api, String tlsAuthClients) throws Exception {
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
      set = tls.isPresent() ? SentinelSet.start(3, tls.get()) : SentinelSet.start(3);
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
