package io.valkeyk8s.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.LettuceFutures;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisAdvancedClusterAsyncCommands;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Local Valkey nodes plus their pods in a real API server, and the checks every scenario repeats. */
final class ClusterHarness implements AutoCloseable {
  final ValkeyNodes nodes;
  final KubeApi kube;

  ClusterHarness() throws IOException {
    nodes = new ValkeyNodes();
    try {
      kube = new KubeApi();
    } catch (RuntimeException e) {
      nodes.close();
      throw e;
    }
  }

  /** Runs like the StatefulSet at masters*(1+replicas) pods: starts missing nodes, publishes their pods. */
  void scaleStatefulSet(int pods) throws IOException {
    nodes.startUpTo(pods);
    for (ValkeyNodes.Node n : nodes.nodes()) {
      kube.pod(n.index, n.host);
    }
  }

  /** Removes the highest pods and their processes, like the StatefulSet shrinking. */
  void shrinkStatefulSet(int pods) {
    for (int i = nodes.nodes().size() - 1; i >= pods; i--) {
      kube.deletePod(i);
    }
    nodes.removeAbove(pods);
  }

  /** Republishes every pod's current IP (after restarts on new addresses). */
  void publishPods() {
    for (ValkeyNodes.Node n : nodes.nodes()) {
      kube.pod(n.index, n.host);
    }
  }

  int run(ClusterCommand command) {
    command.timeoutSeconds = 120;
    return command.call();
  }

  InitCommand init(int masters, int replicas) {
    return new InitCommand(KubeApi.env(masters, replicas, nodes.port()), kube::platform);
  }

  ScaleUpCommand scaleUp(int masters, int replicas) {
    return new ScaleUpCommand(KubeApi.env(masters, replicas, nodes.port()), kube::platform);
  }

  ScaleDownCommand scaleDown(int masters, int replicas) {
    return new ScaleDownCommand(KubeApi.env(masters, replicas, nodes.port()), kube::platform);
  }

  NodeClients clients() {
    return new NodeClients(null, null, Duration.ofSeconds(10));
  }

  List<Member> members(NodeClients clients) {
    List<ClusterPod> pods = new ArrayList<>();
    for (ValkeyNodes.Node n : nodes.nodes()) {
      if (n.running()) {
        pods.add(new ClusterPod("valkey-" + n.index, n.index, n.address(), null, null));
      }
    }
    return Snapshot.take("test: read nodes", pods, clients).requireAllReachable().members();
  }

  /** Every node says ok with 16384 slots, the expected masters serve slots within one slot of each other. */
  void assertClusterOk(int masters, int replicasPerMaster) {
    try (NodeClients clients = clients()) {
      List<Member> members = members(clients);
      assertThat(members).hasSize(masters * (1 + replicasPerMaster));
      for (Member m : members) {
        Map<String, String> info = m.client().info("test");
        assertThat(info.get("cluster_state")).as("cluster_state on " + m.describe()).isEqualTo("ok");
        assertThat(info.get("cluster_slots_assigned")).as("slots on " + m.describe()).isEqualTo("16384");
        assertThat(m.view().nodes()).as("nodes known by " + m.describe()).hasSize(members.size());
      }
      List<Integer> sizes = members.stream().filter(m -> m.slotCount() > 0).map(Member::slotCount).toList();
      assertThat(sizes).as("masters serving slots").hasSize(masters);
      assertThat(sizes.stream().mapToInt(i -> i).max().getAsInt() - sizes.stream().mapToInt(i -> i).min().getAsInt())
          .as("slot balance " + sizes).isLessThanOrEqualTo(1);
      for (Member m : members) {
        assertThat(m.view().myself().migrating()).as("migrating on " + m.describe()).isEmpty();
        assertThat(m.view().myself().importing()).as("importing on " + m.describe()).isEmpty();
        if (m.slotCount() == 0) {
          assertThat(m.view().myself().isReplica()).as(m.describe() + " without slots is a replica").isTrue();
        }
      }
      Map<String, Integer> replicas = new HashMap<>();
      members.stream().filter(m -> m.view().myself().isReplica())
          .forEach(m -> replicas.merge(m.view().myself().masterId(), 1, Integer::sum));
      members.stream().filter(m -> m.slotCount() > 0).forEach(m ->
          assertThat(replicas.getOrDefault(m.id(), 0)).as("replicas of " + m.describe()).isEqualTo(replicasPerMaster));
    }
  }

  void writeKeys(int count) {
    writeKeys(nodes, count);
  }

  int missingKeys(int count) {
    return missingKeys(nodes, count);
  }

  static RedisClusterClient clusterClient(ValkeyNodes nodes) {
    List<RedisURI> seeds = nodes.nodes().stream().filter(ValkeyNodes.Node::running)
        .map(n -> RedisURI.create(n.host, nodes.port())).toList();
    return RedisClusterClient.create(seeds);
  }

  /** Writes key:i = value-i for i in [0, count), pipelined. */
  static void writeKeys(ValkeyNodes nodes, int count) {
    RedisClusterClient client = clusterClient(nodes);
    try (StatefulRedisClusterConnection<String, String> c = client.connect()) {
      RedisAdvancedClusterAsyncCommands<String, String> async = c.async();
      List<RedisFuture<String>> pending = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        pending.add(async.set("key:" + i, "value-" + i));
        if (pending.size() == 2000) {
          assertThat(LettuceFutures.awaitAll(60, TimeUnit.SECONDS, pending.toArray(new RedisFuture[0]))).isTrue();
          pending.clear();
        }
      }
      assertThat(LettuceFutures.awaitAll(60, TimeUnit.SECONDS, pending.toArray(new RedisFuture[0]))).isTrue();
    } finally {
      client.shutdown();
    }
  }

  /** Reads every key back; returns how many are missing or wrong. */
  static int missingKeys(ValkeyNodes nodes, int count) {
    RedisClusterClient client = clusterClient(nodes);
    try (StatefulRedisClusterConnection<String, String> c = client.connect()) {
      RedisAdvancedClusterAsyncCommands<String, String> async = c.async();
      int missing = 0;
      for (int start = 0; start < count; start += 2000) {
        List<RedisFuture<String>> batch = new ArrayList<>();
        for (int i = start; i < Math.min(count, start + 2000); i++) {
          batch.add(async.get("key:" + i));
        }
        try {
          LettuceFutures.awaitAll(60, TimeUnit.SECONDS, batch.toArray(new RedisFuture[0]));
        } catch (RuntimeException e) {
          // counted per key below
        }
        for (int j = 0; j < batch.size(); j++) {
          try {
            if (!("value-" + (start + j)).equals(batch.get(j).get())) {
              missing++;
            }
          } catch (Exception e) {
            missing++;
          }
        }
      }
      return missing;
    } finally {
      client.shutdown();
    }
  }

  @Override
  public void close() throws IOException {
    try {
      kube.close();
    } finally {
      nodes.close();
    }
  }
}
