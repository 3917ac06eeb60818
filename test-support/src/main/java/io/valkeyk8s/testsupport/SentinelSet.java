package io.valkeyk8s.testsupport;

import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.ListOfMapsOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.sentinel.api.StatefulRedisSentinelConnection;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A Sentinel-mode set as the chart runs it, on a {@link LoopbackValkey} with the production users:
 * node i is one "pod" address running a Valkey (primary for i = 0, replicas after) and a Sentinel
 * (down-after 1000 ms). Helpers kill -9, SIGSTOP/SIGCONT and restart processes and ask the
 * Sentinels; {@link #close()} kills everything.
 */
public final class SentinelSet implements AutoCloseable {
  public static final String MASTER = "myprimary";
  private static final Duration WAIT = Duration.ofSeconds(30);

  private final LoopbackValkey valkey;
  private final List<ValkeyProcess> servers = new ArrayList<>();
  private final List<ValkeyProcess> sentinels = new ArrayList<>();

  private SentinelSet(LoopbackValkey valkey) {
    this.valkey = valkey;
  }

  /** Starts node 0 as primary, the others as its replicas, then a Sentinel on every node. */
  public static SentinelSet start(int size) throws Exception {
    return start(LoopbackValkey.withUsers(AclUsers.random()), size);
  }

  /** The same with TLS on every port ({@link LoopbackTls}). */
  public static SentinelSet start(int size, LoopbackTls tls) throws Exception {
    return start(LoopbackValkey.withUsers(AclUsers.random()).withTls(tls), size);
  }

  private static SentinelSet start(LoopbackValkey valkey, int size) throws Exception {
    SentinelSet set = new SentinelSet(valkey);
    try {
      List<String> hosts = new ArrayList<>();
      for (int i = 0; i < size; i++) {
        hosts.add(set.valkey.newHost());
      }
      for (int i = 0; i < size; i++) {
        set.servers.add(
            set.valkey.startServer(
                "valkey-" + i,
                hosts.get(i),
                i == 0 ? List.of() : List.of(replicaOf(set.valkeyAddress(0)))));
      }
      for (int i = 0; i < size; i++) {
        set.sentinels.add(
            set.valkey.startSentinel(
                "sentinel-" + i,
                hosts.get(i),
                MASTER,
                set.valkeyAddress(0),
                List.of(
                    "sentinel down-after-milliseconds " + MASTER + " 1000",
                    "sentinel failover-timeout " + MASTER + " 2000",
                    "sentinel parallel-syncs " + MASTER + " 2")));
      }
      set.awaitStable();
      return set;
    } catch (Exception e) {
      set.close();
      throw e;
    }
  }

  private static String replicaOf(InetSocketAddress primary) {
    return "replicaof " + primary.getHostString() + " " + primary.getPort();
  }

  public AclUsers users() {
    return valkey.users().orElseThrow();
  }

  /** The launcher the set runs on (its TLS settings, its client). */
  public LoopbackValkey valkey() {
    return valkey;
  }

  public String ip(int node) {
    return servers.get(node).host();
  }

  public int size() {
    return servers.size();
  }

  public int valkeyPort() {
    return valkey.port();
  }

  public int sentinelPort() {
    return valkey.sentinelPort();
  }

  public InetSocketAddress valkeyAddress(int node) {
    return servers.get(node).address();
  }

  /** kill -9 of node i's Valkey. */
  public void killValkey(int i) {
    servers.get(i).kill();
  }

  public void freezeValkey(int i) throws Exception {
    servers.get(i).freeze();
  }

  public void thawValkey(int i) throws Exception {
    servers.get(i).thaw();
  }

  /** Node i's Valkey process (its directory, its certificate files). */
  public ValkeyProcess server(int i) {
    return servers.get(i);
  }

  /** Node i's Sentinel process. */
  public ValkeyProcess sentinel(int i) {
    return sentinels.get(i);
  }

  public void killSentinel(int i) {
    sentinels.get(i).kill();
  }

  /** Starts node i's Sentinel again with the config it rewrote. */
  public void restartSentinel(int i) throws IOException {
    sentinels.get(i).start();
  }

  /** Node index of a host. */
  public int nodeOf(String host) {
    for (int i = 0; i < size(); i++) {
      if (ip(i).equals(host)) {
        return i;
      }
    }
    throw new IllegalArgumentException("not a node: " + host);
  }

  /** Starts node i's Valkey again, empty, as a replica of the primary the Sentinels name. */
  public void restartValkeyAsReplica(int i) throws IOException {
    ValkeyProcess server = servers.get(i);
    server.kill();
    server.wipe();
    server.configure(List.of(replicaOf(primaryBySentinels().orElseThrow())));
    server.start();
  }

  /** The address a majority of the running Sentinels names as primary. */
  public Optional<InetSocketAddress> primaryBySentinels() {
    Map<InetSocketAddress, Integer> votes = new HashMap<>();
    for (ValkeyProcess s : sentinels) {
      if (!s.isAlive()) {
        continue;
      }
      try (StatefulRedisSentinelConnection<String, String> c = connectSentinel(s)) {
        SocketAddress a = c.sync().getMasterAddrByName(MASTER);
        if (a instanceof InetSocketAddress isa) {
          votes.merge(
              InetSocketAddress.createUnresolved(isa.getHostString(), isa.getPort()),
              1,
              Integer::sum);
        }
      } catch (RuntimeException ignored) {
        // a stopped Sentinel does not vote
      }
    }
    return votes.entrySet().stream()
        .filter(e -> e.getValue() > size() / 2)
        .map(Map.Entry::getKey)
        .findFirst();
  }

  /** ROLE of node i's Valkey ("master", "slave"), or empty when it does not answer. */
  public Optional<String> role(int i) {
    try {
      return Optional.of(String.valueOf(valkey.call(servers.get(i), c -> c.role()).get(0)));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /** A connection to node i's Valkey as admin; the caller closes it. */
  public StatefulRedisConnection<String, String> connect(int i) {
    return valkey.connect(servers.get(i));
  }

  /** SENTINEL FAILOVER through node i's Sentinel; its answer ("OK" or the error). */
  public String failoverBy(int i) {
    try (StatefulRedisSentinelConnection<String, String> c = connectSentinel(sentinels.get(i))) {
      return c.sync().failover(MASTER);
    } catch (RuntimeException e) {
      return String.valueOf(e.getMessage());
    }
  }

  /** The other Sentinels node i's Sentinel knows (SENTINEL SENTINELS), one map of fields each. */
  public List<Map<String, String>> sentinelsKnownBy(int i) {
    try (StatefulRedisSentinelConnection<String, String> c = connectSentinel(sentinels.get(i))) {
      return c.sync()
          .dispatch(
              CommandType.SENTINEL,
              new ListOfMapsOutput<>(StringCodec.UTF8),
              new CommandArgs<>(StringCodec.UTF8).add("SENTINELS").add(MASTER));
    }
  }

  /** The replicas node i's Sentinel knows (SENTINEL REPLICAS), one map of fields each. */
  public List<Map<String, String>> replicasKnownBy(int i) {
    try (StatefulRedisSentinelConnection<String, String> c = connectSentinel(sentinels.get(i))) {
      return c.sync().replicas(MASTER);
    }
  }

  /**
   * The primary every running Sentinel names with no failover in progress and no down flag on it,
   * or empty while they disagree or one is still failing over. A majority may already name the new
   * primary while a slow Sentinel still runs a failover of its own (in a later epoch) that would
   * replace it.
   */
  public Optional<InetSocketAddress> primaryAllSentinelsSettledOn() {
    InetSocketAddress agreed = null;
    for (ValkeyProcess s : sentinels) {
      if (!s.isAlive()) {
        continue;
      }
      try (StatefulRedisSentinelConnection<String, String> c = connectSentinel(s)) {
        Map<String, String> primary = c.sync().master(MASTER);
        if (!"master".equals(primary.get("flags"))) {
          return Optional.empty();
        }
        InetSocketAddress named =
            InetSocketAddress.createUnresolved(
                primary.get("ip"), Integer.parseInt(primary.get("port")));
        if (agreed != null && !agreed.equals(named)) {
          return Optional.empty();
        }
        agreed = named;
      } catch (RuntimeException e) {
        return Optional.empty();
      }
    }
    return Optional.ofNullable(agreed);
  }

  public RedisURI sentinelUri(int i) {
    return valkey.uri(sentinels.get(i));
  }

  private StatefulRedisSentinelConnection<String, String> connectSentinel(ValkeyProcess s) {
    return valkey.client().connectSentinel(valkey.uri(s));
  }

  /**
   * Stable: a majority of Sentinels agree, that node is master with every other node as an online
   * replica, and every running Sentinel sees them all.
   */
  public InetSocketAddress awaitStable() throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      Optional<InetSocketAddress> primary = primaryBySentinels();
      if (primary.isPresent()) {
        int p = nodeOf(primary.get().getHostString());
        try {
          String info = valkey.call(servers.get(p), c -> c.info("replication"));
          long online =
              info.lines().filter(l -> l.startsWith("slave") && l.contains("state=online")).count();
          boolean replicasUp = true;
          for (int i = 0; i < size(); i++) {
            if (i != p && !linkUp(i)) {
              replicasUp = false;
            }
          }
          if (info.contains("role:master")
              && online == size() - 1
              && replicasUp
              && sentinelsSeeReplicas()) {
            return primary.get();
          }
          last = "primary=" + primary.get() + " online=" + online + " replicasUp=" + replicasUp;
        } catch (RuntimeException e) {
          last = e.getMessage();
        }
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("Sentinel set not stable within " + WAIT + ": " + last);
  }

  private boolean linkUp(int i) {
    try {
      return valkey
          .call(servers.get(i), c -> c.info("replication"))
          .contains("master_link_status:up");
    } catch (RuntimeException e) {
      return false;
    }
  }

  /**
   * Every running Sentinel sees every other node as a replica that is not down, and knows every
   * other running Sentinel.
   */
  private boolean sentinelsSeeReplicas() {
    long running = sentinels.stream().filter(ValkeyProcess::isAlive).count();
    for (ValkeyProcess s : sentinels) {
      if (!s.isAlive()) {
        continue;
      }
      try (StatefulRedisSentinelConnection<String, String> c = connectSentinel(s)) {
        long ok =
            c.sync().replicas(MASTER).stream()
                .filter(
                    r ->
                        !r.get("flags").contains("down")
                            && !r.get("flags").contains("disconnected"))
                .count();
        List<Map<String, String>> peers =
            c.sync()
                .dispatch(
                    CommandType.SENTINEL,
                    new ListOfMapsOutput<>(StringCodec.UTF8),
                    new CommandArgs<>(StringCodec.UTF8).add("SENTINELS").add(MASTER));
        if (ok < size() - 1 || peers.size() < running - 1) {
          return false;
        }
      } catch (RuntimeException e) {
        return false;
      }
    }
    return true;
  }

  @Override
  public void close() {
    valkey.close();
  }
}
