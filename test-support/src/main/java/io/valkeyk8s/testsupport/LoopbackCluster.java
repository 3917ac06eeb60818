package io.valkeyk8s.testsupport;

import static org.awaitility.Awaitility.await;

import io.lettuce.core.MigrateArgs;
import io.lettuce.core.Range;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A Valkey Cluster formed from {@link LoopbackValkey} nodes: {@code masters} primaries with the
 * slots split evenly, each with {@code replicasPerMaster} replicas, every node on its own loopback
 * address. Formed the way {@code valkey-cli --cluster create} does it (config epochs, slots, MEET,
 * REPLICATE), as the launcher's admin user.
 */
public final class LoopbackCluster {
  private static final int SLOTS = 16384;
  private static final Duration FORM = Duration.ofSeconds(60);

  private final LoopbackValkey valkey;
  private final List<ValkeyProcess> primaries;
  private final List<ValkeyProcess> replicas;

  private LoopbackCluster(
      LoopbackValkey valkey, List<ValkeyProcess> primaries, List<ValkeyProcess> replicas) {
    this.valkey = valkey;
    this.primaries = primaries;
    this.replicas = replicas;
  }

  /**
   * Starts and forms the cluster, returning once every node says {@code cluster_state:ok} and every
   * replica is in sync.
   *
   * @param extraSettings valkey.conf lines per node address (TLS), after the cluster node settings
   */
  public static LoopbackCluster start(
      LoopbackValkey valkey,
      int masters,
      int replicasPerMaster,
      Function<String, List<String>> extraSettings)
      throws IOException {
    List<ValkeyProcess> primaries = new ArrayList<>();
    List<ValkeyProcess> replicas = new ArrayList<>();
    for (int i = 0; i < masters * (1 + replicasPerMaster); i++) {
      String host = valkey.newHost();
      List<String> settings = new ArrayList<>(LoopbackValkey.CLUSTER_NODE);
      // The bus port stays where the launcher checked it is free, also with tls-port set.
      settings.add("cluster-port " + (valkey.port() + 10000));
      // The cluster tests here need no AOF fsyncs slowing the busy machine down.
      settings.add("appendonly no");
      settings.addAll(extraSettings.apply(host));
      ValkeyProcess node = valkey.startServer("node-" + i, host, settings);
      (i < masters ? primaries : replicas).add(node);
    }
    LoopbackCluster cluster = new LoopbackCluster(valkey, primaries, replicas);
    cluster.form(replicasPerMaster);
    return cluster;
  }

  private void form(int replicasPerMaster) {
    for (int i = 0; i < primaries.size(); i++) {
      int first = i * SLOTS / primaries.size();
      int last = (i + 1) * SLOTS / primaries.size() - 1;
      long epoch = i + 1;
      valkey.call(
          primaries.get(i),
          c -> {
            c.clusterSetConfigEpoch(epoch);
            return c.clusterAddSlotsRange(Range.create(first, last));
          });
    }
    ValkeyProcess first = primaries.getFirst();
    for (ValkeyProcess node : nodes()) {
      if (node != first) {
        valkey.call(first, c -> c.clusterMeet(node.host(), node.port()));
      }
    }
    await("every node knows all " + nodes().size())
        .atMost(FORM)
        .pollInterval(Duration.ofMillis(200))
        .until(
            () ->
                nodes().stream()
                    .allMatch(
                        n ->
                            clusterInfo(n).contains("cluster_known_nodes:" + nodes().size())
                                && !valkey.call(n, c -> c.clusterNodes()).contains("handshake")));
    for (int r = 0; r < replicas.size(); r++) {
      String primaryId = nodeId(primaries.get(r / replicasPerMaster));
      valkey.call(replicas.get(r), c -> c.clusterReplicate(primaryId));
    }
    awaitHealthy();
  }

  /** Waits until every live node has the whole slot space served and every replica is in sync. */
  public void awaitHealthy() {
    await("cluster_state:ok on every live node, replicas in sync")
        .atMost(FORM)
        .pollInterval(Duration.ofMillis(200))
        .ignoreExceptions()
        .until(
            () ->
                nodes().stream()
                    .filter(ValkeyProcess::isAlive)
                    .allMatch(
                        n ->
                            clusterInfo(n).contains("cluster_state:ok")
                                && (isPrimary(n)
                                    || valkey
                                        .call(n, c -> c.info("replication"))
                                        .contains("master_link_status:up"))));
  }

  public List<ValkeyProcess> primaries() {
    return primaries;
  }

  public List<ValkeyProcess> replicas() {
    return replicas;
  }

  public List<ValkeyProcess> nodes() {
    List<ValkeyProcess> all = new ArrayList<>(primaries);
    all.addAll(replicas);
    return all;
  }

  public String nodeId(ValkeyProcess node) {
    return valkey.call(node, c -> c.clusterMyId());
  }

  public boolean isPrimary(ValkeyProcess node) {
    return valkey.call(node, c -> c.info("replication")).contains("role:master");
  }

  public String clusterInfo(ValkeyProcess node) {
    return valkey.call(node, c -> c.clusterInfo());
  }

  /**
   * Moves slots {@code from..to} from one primary to another the way a resharding does, key by key:
   * IMPORTING/MIGRATING, MIGRATE of every key (as admin), then the new owner announced to every
   * primary. Clients meanwhile get ASK for keys already moved and MOVED afterwards.
   */
  public void moveSlots(int from, int to, ValkeyProcess source, ValkeyProcess target) {
    String sourceId = nodeId(source);
    String targetId = nodeId(target);
    AclUsers users = valkey.users().orElseThrow();
    List<ValkeyProcess> others =
        primaries.stream().filter(p -> p != target && p != source && p.isAlive()).toList();
    List<StatefulRedisConnection<String, String>> open = new ArrayList<>();
    try {
      RedisCommands<String, String> src = connect(source, open);
      RedisCommands<String, String> dst = connect(target, open);
      List<RedisCommands<String, String>> rest = new ArrayList<>();
      for (ValkeyProcess other : others) {
        rest.add(connect(other, open));
      }
      for (int slot = from; slot <= to; slot++) {
        dst.clusterSetSlotImporting(slot, sourceId);
        src.clusterSetSlotMigrating(slot, targetId);
        for (List<String> keys = src.clusterGetKeysInSlot(slot, 100);
            !keys.isEmpty();
            keys = src.clusterGetKeysInSlot(slot, 100)) {
          src.migrate(
              target.host(),
              target.port(),
              0,
              5000,
              MigrateArgs.Builder.keys(keys).auth2(AclUsers.ADMIN, users.adminPassword()));
        }
        // The target first, so the slot is never owned by nobody (what valkey-cli does).
        dst.clusterSetSlotNode(slot, targetId);
        src.clusterSetSlotNode(slot, targetId);
        for (RedisCommands<String, String> other : rest) {
          other.clusterSetSlotNode(slot, targetId);
        }
      }
    } finally {
      open.forEach(StatefulRedisConnection::close);
    }
  }

  private RedisCommands<String, String> connect(
      ValkeyProcess node, List<StatefulRedisConnection<String, String>> open) {
    StatefulRedisConnection<String, String> connection = valkey.connect(node);
    open.add(connection);
    return connection.sync();
  }
}
