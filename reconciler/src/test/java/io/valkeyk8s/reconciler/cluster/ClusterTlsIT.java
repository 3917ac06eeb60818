package io.valkeyk8s.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.valkeyk8s.reconciler.cluster.command.InitCommand;
import io.valkeyk8s.reconciler.cluster.heal.ClusterCommand;
import io.valkeyk8s.reconciler.cluster.heal.HealPass;
import io.valkeyk8s.reconciler.core.Config;
import io.valkeyk8s.reconciler.core.TlsSettings;
import io.valkeyk8s.reconciler.kube.Controller;
import io.valkeyk8s.reconciler.valkey.Credentials;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import io.valkeyk8s.reconciler.valkey.PodNames;
import io.valkeyk8s.testsupport.LoopbackTls;
import io.valkeyk8s.testsupport.LoopbackValkey;
import io.valkeyk8s.testsupport.TestCertificates;
import io.valkeyk8s.testsupport.ValkeyProcess;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer.OrderAnnotation;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Cluster mode over TLS only (clients, cluster bus, replication; client certificates required),
 * with certificates that, like the chart's, name the pods' stable DNS names and not their IPs: the
 * hook command and the healer reach every pod under its stable name and verify it. A wrong CA fails
 * the hook with one line naming the node and the reason.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(OrderAnnotation.class)
class ClusterTlsIT {
  private static final String SUBDOMAIN = KubeApi.RELEASE + "-headless";
  private LoopbackTls tls;
  private LoopbackValkey valkey;
  private KubeApi kube;
  private final List<ValkeyProcess> nodes = new ArrayList<>();

  @BeforeAll
  void start() throws Exception {
    tls = LoopbackTls.create(Files.createTempDirectory("cluster-tls"), "yes", List.of());
    valkey = LoopbackValkey.withoutAuth().withTls(tls);
    kube = new KubeApi();
    ClusterHarness.startUpTo(valkey, nodes, 6);
    for (int i = 0; i < nodes.size(); i++) {
      // Only the stable name, as cert-manager issues it from the chart's Certificate.
      tls.replaceCertificate(nodes.get(i), tls.ca().server("valkey-" + i, List.of(stableName(i))));
      kube.pod(i, nodes.get(i).host(), SUBDOMAIN);
    }
    Thread.sleep(LoopbackTls.RELOAD.multipliedBy(3).toMillis());
  }

  @AfterAll
  void stop() {
    if (kube != null) {
      kube.close();
    }
    if (valkey != null) {
      valkey.close();
    }
  }

  private static String stableName(int ordinal) {
    return KubeApi.RELEASE
        + "-"
        + ordinal
        + "."
        + SUBDOMAIN
        + "."
        + KubeApi.NAMESPACE
        + ".svc.cluster.local";
  }

  private Map<String, String> env(String caFile) {
    Map<String, String> env = new HashMap<>(KubeApi.env(3, 1, valkey.port()));
    env.put("VALKEY_TLS", "true");
    env.put("VALKEY_TLS_CA_FILE", caFile);
    env.put("VALKEY_TLS_CERT_FILE", tls.clientCertificate()[0].toString());
    env.put("VALKEY_TLS_KEY_FILE", tls.clientCertificate()[1].toString());
    return env;
  }

  /** Connections as the reconciler opens them over TLS, by stable name. */
  private NodeClients clients() {
    TlsSettings settings =
        new TlsSettings(
            true,
            Optional.of(tls.trustFile()),
            Optional.of(tls.clientCertificate()[0]),
            Optional.of(tls.clientCertificate()[1]),
            false,
            "cluster.local");
    PodNames names =
        PodNames.of(
            ip -> {
              for (int i = 0; i < nodes.size(); i++) {
                if (nodes.get(i).host().equals(ip)) {
                  return Optional.of(stableName(i));
                }
              }
              return Optional.empty();
            },
            host -> {
              for (int i = 0; i < nodes.size(); i++) {
                if (stableName(i).equals(host)) {
                  return Optional.of(nodes.get(i).host());
                }
              }
              return Optional.empty();
            });
    return NodeClients.withOwnThreads(
        2, Credentials.NONE, settings, names, Duration.ofSeconds(10), true);
  }

  @Test
  @Order(1)
  void aWrongCaFailsTheHookWithOneLineNamingTheNode() throws Exception {
    String otherCa =
        TestCertificates.create(Files.createTempDirectory("other-ca"), "nobody")
            .caFile()
            .toString();
    InitCommand init = new InitCommand(env(otherCa), kube::newClient);
    init.timeoutSeconds(20);
    assertThat(init.call()).isEqualTo(1);
    assertThat(init.lastError())
        .contains("not signed by a trusted CA")
        .contains(SUBDOMAIN + "." + KubeApi.NAMESPACE + ".svc.cluster.local");
  }

  @Test
  @Order(2)
  void initFormsTheClusterOverTlsByStableNames() {
    InitCommand init = new InitCommand(env(tls.trustFile().toString()), kube::newClient);
    init.timeoutSeconds(120);
    assertThat(init.call()).as("%s", init.lastError()).isZero();
    try (NodeClients clients = clients()) {
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> {
                int primaries = 0;
                for (int i = 0; i < nodes.size(); i++) {
                  var node = clients.at(ClusterHarness.address(nodes.get(i)), "valkey-" + i);
                  assertThat(node.clusterInfo().get("cluster_state"))
                      .as("cluster_state of valkey-" + i)
                      .isEqualTo("ok");
                  Map<String, String> replication = node.info("replication");
                  if ("master".equals(replication.get("role"))) {
                    primaries++;
                  } else {
                    assertThat(replication.get("master_link_status"))
                        .as("TLS replication link of valkey-" + i)
                        .isEqualTo("up");
                  }
                }
                assertThat(primaries).isEqualTo(3);
              });
    }
  }

  @Test
  @Order(3)
  void theHealerIsReadyOverTls() throws Exception {
    Map<String, String> env = env(tls.trustFile().toString());
    Config config = Config.fromEnv(env);
    try (KubernetesClient client = kube.newClient();
        Controller healer =
            ClusterCommand.controller(config, Config.Cluster.fromEnv(env, config), client)) {
      healer.start();
      await().atMost(Duration.ofSeconds(60)).until(() -> healer.health().isReady());
      // Ready means a pass read every node: the role labels it keeps are there.
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () -> {
                for (int i = 0; i < nodes.size(); i++) {
                  assertThat(kube.labels(i)).containsKey(HealPass.ROLE_LABEL);
                }
              });
    }
  }
}
