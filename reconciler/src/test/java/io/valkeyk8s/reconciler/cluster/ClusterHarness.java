package io.valkeyk8s.reconciler.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.lettuce.core.LettuceFutures;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisAdvancedClusterAsyncCommands;
import io.lettuce.core.internal.HostAndPort;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DnsResolvers;
import io.lettuce.core.resource.MappingSocketAddressResolver;
import io.valkeyk8s.reconciler.cluster.command.InitCommand;
import io.valkeyk8s.reconciler.cluster.command.OneShotCommand;
import io.valkeyk8s.reconciler.cluster.command.ScaleDownCommand;
import io.valkeyk8s.reconciler.cluster.command.ScaleUpCommand;
import io.valkeyk8s.reconciler.cluster.heal.ClusterCommand;
import io.valkeyk8s.reconciler.cluster.topology.ClusterNode;
import io.valkeyk8s.reconciler.cluster.topology.ClusterPod;
import io.valkeyk8s.reconciler.cluster.topology.ClusterView;
import io.valkeyk8s.reconciler.cluster.topology.PodNode;
import io.valkeyk8s.reconciler.cluster.topology.ShardLayout;
import io.valkeyk8s.reconciler.cluster.topology.SlotMigrator;
import io.valkeyk8s.reconciler.cluster.topology.Snapshot;
import io.valkeyk8s.reconciler.core.Config;
import io.valkeyk8s.reconciler.kube.Controller;
import io.valkeyk8s.reconciler.valkey.Address;
import io.valkeyk8s.reconciler.valkey.Credentials;
import io.valkeyk8s.reconciler.valkey.NodeClient;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import io.valkeyk8s.testsupport.AclUsers;
import io.valkeyk8s.testsupport.LoopbackValkey;
import io.valkeyk8s.testsupport.ValkeyProcess;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;

/**
 * Local Valkey nodes plus their pods in a real API server, and the checks every scenario repeats.
 */
final class ClusterHarness implements AutoCloseable {
  final LoopbackValkey valkey;

  /** The StatefulSet's Valkey nodes, by pod ordinal. */
  final List<ValkeyProcess> nodes = new ArrayList<>();

  final KubeApi kube;

  ClusterHarness() throws IOException {
    this(LoopbackValkey.withoutAuth());
  }

  /**
   * With users set, nodes run with the production ACL users and the reconciler connects as admin.
   */
  ClusterHarness(AclUsers users) throws IOException {
    this(LoopbackValkey.withUsers(users));
  }

  private ClusterHarness(LoopbackValkey valkey) {
    this.valkey = valkey;
    try {
      kube = new KubeApi();
    } catch (RuntimeException e) {
      valkey.close();
      throw e;
    }
  }

  ValkeyProcess node(int ordinal) {
    return nodes.get(ordinal);
  }

  Address address(int ordinal) {
    return address(node(ordinal));
  }

  static Address address(ValkeyProcess node) {
    return new Address(node.host(), node.port());
  }

  /**
   * Runs like the StatefulSet at masters*(1+replicas) pods: starts missing nodes, publishes their
   * pods.
   */
  void scaleStatefulSet(int pods) throws IOException {
    startUpTo(valkey, nodes, pods);
    publishPods();
  }

  /**
   * Starts cluster nodes until there are count of them (index = pod ordinal), each announcing its
   * pod's DNS name as the chart's pods do (cluster-announce-hostname).
   */
  static void startUpTo(LoopbackValkey valkey, List<ValkeyProcess> nodes, int count)
      throws IOException {
    while (nodes.size() < count) {
      String name = "valkey-" + nodes.size();
      List<String> settings = new ArrayList<>(LoopbackValkey.CLUSTER_NODE);
      settings.add("cluster-announce-hostname " + name + ".valkey-headless.valkey-it.svc");
      nodes.add(valkey.startServer(name, valkey.newHost(), settings));
    }
  }

  /** Removes the highest pods and their processes, like the StatefulSet shrinking. */
  void shrinkStatefulSet(int pods) {
    for (int i = nodes.size() - 1; i >= pods; i--) {
      kube.deletePod(i);
      nodes.remove(i).kill();
    }
  }

  /** Republishes every pod's current IP (after restarts on new addresses). */
  void publishPods() {
    for (int i = 0; i < nodes.size(); i++) {
      kube.pod(i, nodes.get(i).host());
    }
  }

  /** Starts a stopped node again with its data, on a new address when newAddress is set. */
  void relaunch(ValkeyProcess node, boolean newAddress) throws IOException {
    if (newAddress) {
      node.moveTo(valkey.newHost());
    }
    node.start();
  }

  int run(OneShotCommand command) {
    command.timeoutSeconds(120);
    return command.call();
  }

  /**
   * The reconciler's environment; with ACL users it carries VALKEY_USERNAME=admin and its password.
   */
  Map<String, String> env(int masters, int replicas) {
    Map<String, String> env = new HashMap<>(KubeApi.env(masters, replicas, valkey.port()));
    valkey
        .users()
        .ifPresent(
            u -> {
              env.put("VALKEY_USERNAME", AclUsers.ADMIN);
              env.put("VALKEY_PASSWORD", u.adminPassword());
            });
    return env;
  }

  InitCommand init(int masters, int replicas) {
    return new InitCommand(env(masters, replicas), kube::newClient);
  }

  ScaleUpCommand scaleUp(int masters, int replicas) {
    return new ScaleUpCommand(env(masters, replicas), kube::newClient);
  }

  ScaleDownCommand scaleDown(int masters, int replicas) {
    return new ScaleDownCommand(env(masters, replicas), kube::newClient);
  }

  /** Node connections as the reconciler opens them (as admin when the nodes have ACL users). */
  NodeClients clients() {
    return valkey
        .users()
        .map(
            u ->
                NodeClients.withOwnThreads(
                    2,
                    Credentials.user(AclUsers.ADMIN, Optional.of(u.adminPassword())),
                    Duration.ofSeconds(10),
                    true))
        .orElseGet(
            () -> NodeClients.withOwnThreads(2, Credentials.NONE, Duration.ofSeconds(10), true));
  }

  List<PodNode> members(NodeClients clients) {
    List<ClusterPod> pods = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      if (nodes.get(i).isAlive()) {
        pods.add(pod(i, address(i)));
      }
    }
    return Snapshot.take("test: read nodes", pods, clients).requireAllReachable().members();
  }

  /** A data pod as the cluster code sees it, for a node started without a pod. */
  static ClusterPod pod(int ordinal, Address address) {
    return new ClusterPod(
        new PodBuilder().withNewMetadata().withName("valkey-" + ordinal).endMetadata().build(),
        ordinal,
        address);
  }

  /**
   * The cluster mode process on this API server, as the chart runs it next to the hook Jobs; the
   * caller starts and closes it, and closes its client.
   */
  Controller healer(KubernetesClient client) throws IOException {
    Map<String, String> env = env(3, 1);
    Config config = Config.fromEnv(env);
    return ClusterCommand.controller(config, Config.Cluster.fromEnv(env, config), client);
  }

  /**
   * Every node says ok with 16384 slots, the expected masters serve slots within one slot of each
   * other.
   */
  void assertClusterOk(int masters, int replicasPerMaster) {
    try (NodeClients clients = clients()) {
      List<PodNode> members = members(clients);
      assertThat(members).hasSize(masters * (1 + replicasPerMaster));
      for (PodNode m : members) {
        Map<String, String> info = m.client().clusterInfo();
        assertThat(info.get("cluster_state"))
            .as("cluster_state on " + m.describe())
            .isEqualTo("ok");
        assertThat(info.get("cluster_slots_assigned"))
            .as("slots on " + m.describe())
            .isEqualTo("16384");
        assertThat(m.view().nodes()).as("nodes known by " + m.describe()).hasSize(members.size());
      }
      List<Integer> sizes =
          members.stream().filter(m -> m.slotCount() > 0).map(PodNode::slotCount).toList();
      assertThat(sizes).as("masters serving slots").hasSize(masters);
      assertThat(
              sizes.stream().mapToInt(i -> i).max().getAsInt()
                  - sizes.stream().mapToInt(i -> i).min().getAsInt())
          .as("slot balance " + sizes)
          .isLessThanOrEqualTo(1);
      for (PodNode m : members) {
        assertThat(m.view().myself().migrating()).as("migrating on " + m.describe()).isEmpty();
        assertThat(m.view().myself().importing()).as("importing on " + m.describe()).isEmpty();
        if (m.slotCount() == 0) {
          assertThat(m.view().myself().isReplica())
              .as(m.describe() + " without slots is a replica")
              .isTrue();
        }
      }
      Map<String, Integer> replicas = new HashMap<>();
      members.stream()
          .filter(m -> m.view().myself().isReplica())
          .forEach(m -> replicas.merge(m.view().myself().masterId(), 1, Integer::sum));
      members.stream()
          .filter(m -> m.slotCount() > 0)
          .forEach(
              m ->
                  assertThat(replicas.getOrDefault(m.id(), 0))
                      .as("replicas of " + m.describe())
                      .isEqualTo(replicasPerMaster));
    }
  }

  void writeKeys(int count) {
    writeKeys(valkey, nodes, count);
  }

  int missingKeys(int count) {
    return missingKeys(valkey, nodes, count);
  }

  /** The keys outside the given slots that do not read back as written. */
  List<MissingKey> missingOutside(int count, Set<Integer> except) {
    return missing(valkey, nodes, count, slot -> !except.contains(slot));
  }

  /**
   * Slots an interrupted migration left in flux: open (MIGRATING or IMPORTING) on a running node,
   * or not owned by one and the same healthy master in every running node's view (a target that
   * dies right after taking a slot can leave its replica and the source disagreeing). Their keys
   * may be out of reach until a rerun settles them.
   */
  Set<Integer> slotsInFlux() {
    Set<Integer> flux = new HashSet<>();
    String[] owner = new String[ShardLayout.SLOTS];
    try (NodeClients clients = clients()) {
      for (int i = 0; i < nodes.size(); i++) {
        if (!nodes.get(i).isAlive()) {
          continue;
        }
        ClusterView view =
            ClusterView.parse(
                clients.at(address(i), "valkey-" + i).step("test").call(c -> c.clusterNodes()));
        flux.addAll(view.myself().migrating().keySet());
        flux.addAll(view.myself().importing().keySet());
        BitSet assigned = new BitSet(ShardLayout.SLOTS);
        for (ClusterNode x : view.nodes()) {
          boolean healthyMaster = x.isMaster() && !x.isUnhealthy();
          for (int slot = x.slots().nextSetBit(0);
              slot >= 0;
              slot = x.slots().nextSetBit(slot + 1)) {
            assigned.set(slot);
            if (!healthyMaster || (owner[slot] != null && !owner[slot].equals(x.id()))) {
              flux.add(slot);
            }
            owner[slot] = x.id();
          }
        }
        for (int slot = assigned.nextClearBit(0);
            slot < ShardLayout.SLOTS;
            slot = assigned.nextClearBit(slot + 1)) {
          flux.add(slot);
        }
      }
    }
    return flux;
  }

  /** An application's cluster client; with ACL users it logs in as the chart's client user. */
  static RedisClusterClient clusterClient(LoopbackValkey valkey, List<ValkeyProcess> nodes) {
    List<RedisURI> seeds =
        nodes.stream()
            .filter(ValkeyProcess::isAlive)
            .map(
                n -> {
                  RedisURI.Builder uri = RedisURI.builder().withHost(n.host()).withPort(n.port());
                  valkey
                      .users()
                      .ifPresent(
                          u ->
                              uri.withAuthentication(
                                  AclUsers.CLIENT, u.clientPassword().toCharArray()));
                  return uri.build();
                })
            .toList();
    return RedisClusterClient.create(resolving(nodes), seeds);
  }

  /**
   * Client resources that resolve the pod DNS names the nodes announce (as the chart's pods do) to
   * the nodes' loopback addresses; the caller shuts them down.
   */
  static ClientResources resolving(List<ValkeyProcess> nodes) {
    return ClientResources.builder()
        .socketAddressResolver(
            MappingSocketAddressResolver.create(
                DnsResolvers.UNRESOLVED,
                hostAndPort ->
                    nodes.stream()
                        .filter(
                            n ->
                                hostAndPort.getHostText().startsWith(n.name() + ".")
                                    || hostAndPort.getHostText().equals(n.name()))
                        .findFirst()
                        .map(n -> HostAndPort.of(n.host(), hostAndPort.getPort()))
                        .orElse(hostAndPort)))
        .build();
  }

  /** Writes key:i = value-i for i in [0, count), pipelined. */
  static void writeKeys(LoopbackValkey valkey, List<ValkeyProcess> nodes, int count) {
    RedisClusterClient client = clusterClient(valkey, nodes);
    try (StatefulRedisClusterConnection<String, String> c = client.connect()) {
      RedisAdvancedClusterAsyncCommands<String, String> async = c.async();
      List<RedisFuture<String>> pending = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        pending.add(async.set("key:" + i, "value-" + i));
        if (pending.size() == 2000) {
          assertThat(
                  LettuceFutures.awaitAll(
                      60, TimeUnit.SECONDS, pending.toArray(new RedisFuture[0])))
              .isTrue();
          pending.clear();
        }
      }
      assertThat(LettuceFutures.awaitAll(60, TimeUnit.SECONDS, pending.toArray(new RedisFuture[0])))
          .isTrue();
    } finally {
      client.shutdown();
      client.getResources().shutdown();
    }
  }

  /** Reads every key back; returns how many are missing or wrong. */
  static int missingKeys(LoopbackValkey valkey, List<ValkeyProcess> nodes, int count) {
    return missing(valkey, nodes, count, slot -> true).size();
  }

  /** A key that did not read back as written, with what came back instead (a value or an error). */
  record MissingKey(String key, int slot, String got) {
    @Override
    public String toString() {
      return key + " (slot " + slot + "): " + got;
    }
  }

  /** Reads back every key whose slot is counted; returns those missing or wrong. */
  static List<MissingKey> missing(
      LoopbackValkey valkey, List<ValkeyProcess> nodes, int count, IntPredicate countedSlot) {
    RedisClusterClient client = clusterClient(valkey, nodes);
    try (StatefulRedisClusterConnection<String, String> c = client.connect()) {
      RedisAdvancedClusterAsyncCommands<String, String> async = c.async();
      List<MissingKey> missing = new ArrayList<>();
      for (int start = 0; start < count; start += 2000) {
        List<RedisFuture<String>> batch = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        for (int i = start; i < Math.min(count, start + 2000); i++) {
          if (countedSlot.test(SlotHash.getSlot("key:" + i))) {
            batch.add(async.get("key:" + i));
            ids.add(i);
          }
        }
        try {
          LettuceFutures.awaitAll(60, TimeUnit.SECONDS, batch.toArray(new RedisFuture[0]));
        } catch (RuntimeException e) {
          // counted per key below
        }
        for (int j = 0; j < batch.size(); j++) {
          String key = "key:" + ids.get(j);
          String got;
          try {
            got = batch.get(j).get(1, TimeUnit.SECONDS);
          } catch (Exception e) {
            got = e.toString();
          }
          if (!("value-" + ids.get(j)).equals(got)) {
            missing.add(new MissingKey(key, SlotHash.getSlot(key), got));
          }
        }
      }
      return missing;
    } finally {
      client.shutdown();
      client.getResources().shutdown();
    }
  }

  /**
   * What a failed key check needs to be understood, on one line: a few missing keys, and every
   * running node's cluster_state, its own CLUSTER NODES line (role, slots, open migrations) and who
   * it says owns those keys' slots.
   */
  String describe(List<MissingKey> missing, Set<Integer> except) {
    StringBuilder out =
        new StringBuilder(
            missing.size()
                + " keys missing outside "
                + except.size()
                + " slots in flux ("
                + slotRanges(except)
                + ")");
    List<MissingKey> shown = missing.stream().limit(5).toList();
    shown.forEach(m -> out.append(" | ").append(m));
    try (NodeClients clients = clients()) {
      for (int i = 0; i < nodes.size(); i++) {
        if (!nodes.get(i).isAlive()) {
          out.append(" | valkey-").append(i).append(": not running");
          continue;
        }
        try {
          NodeClient client = clients.at(address(i), "valkey-" + i).step("test");
          String text = client.call(c -> c.clusterNodes());
          ClusterView view = ClusterView.parse(text);
          out.append(" | valkey-")
              .append(i)
              .append(" (cluster_state:")
              .append(client.clusterInfo().get("cluster_state"))
              .append("): ")
              .append(text.lines().filter(l -> l.contains("myself")).findFirst().orElse("?"));
          for (MissingKey m : shown) {
            out.append("; slot ")
                .append(m.slot())
                .append(" owner: ")
                .append(
                    view.nodes().stream()
                        .filter(x -> x.slots().get(m.slot()))
                        .map(x -> x.address() + (x.isUnhealthy() ? " " + x.flags() : ""))
                        .toList());
          }
        } catch (RuntimeException e) {
          out.append(" | valkey-").append(i).append(": ").append(e);
        }
      }
    }
    return out.toString();
  }

  /** Slots as ranges ("4272,4309-4312"), for messages. */
  static String slotRanges(Set<Integer> slots) {
    BitSet bits = new BitSet(ShardLayout.SLOTS);
    slots.forEach(bits::set);
    return SlotMigrator.ranges(bits);
  }

  @Override
  public void close() throws IOException {
    try {
      kube.close();
    } finally {
      valkey.close();
    }
  }
}
