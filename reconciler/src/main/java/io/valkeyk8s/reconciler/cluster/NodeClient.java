package io.valkeyk8s.reconciler.cluster;

import io.lettuce.core.MigrateArgs;
import io.lettuce.core.Range;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The cluster commands sent to one node. Every call names its step so that a failure reads "step
 * 'X' failed on pod (ip:port): cause".
 */
public final class NodeClient {
  private final String name;
  private final NodeAddress address;
  private final StatefulRedisConnection<byte[], byte[]> connection;
  private final String username;
  private final String password;

  NodeClient(
      String name,
      NodeAddress address,
      StatefulRedisConnection<byte[], byte[]> connection,
      String username,
      String password) {
    this.name = name;
    this.address = address;
    this.connection = connection;
    this.username = username;
    this.password = password;
  }

  public NodeAddress address() {
    return address;
  }

  /** Pod name and address, as printed in errors and logs. */
  public String describe() {
    return name + " (" + address + ")";
  }

  boolean isOpen() {
    return connection.isOpen();
  }

  void close() {
    connection.close();
  }

  public <T> T run(String step, Function<RedisCommands<byte[], byte[]>, T> command) {
    try {
      return command.apply(connection.sync());
    } catch (StepFailedException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new StepFailedException(step, describe(), String.valueOf(e.getMessage()), e);
    }
  }

  public String myId(String step) {
    return run(step, RedisCommands::clusterMyId);
  }

  public ClusterView view(String step) {
    return run(step, c -> ClusterView.parse(c.clusterNodes()));
  }

  /** CLUSTER INFO as a map of its fields. */
  public Map<String, String> info(String step) {
    String text = run(step, RedisCommands::clusterInfo);
    Map<String, String> out = new LinkedHashMap<>();
    for (String line : text.split("\r?\n")) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        out.put(line.substring(0, colon), line.substring(colon + 1).trim());
      }
    }
    return out;
  }

  public void meet(String step, NodeAddress other) {
    run(step, c -> c.clusterMeet(other.host(), other.port()));
  }

  public void replicate(String step, String masterId) {
    run(step, c -> c.clusterReplicate(masterId));
  }

  public void forget(String step, String nodeId) {
    run(step, c -> c.clusterForget(nodeId));
  }

  public void failover(String step) {
    run(step, c -> c.clusterFailover(false));
  }

  public void resetHard(String step) {
    run(step, c -> c.clusterReset(true));
  }

  public void setConfigEpoch(String step, long epoch) {
    run(step, c -> c.clusterSetConfigEpoch(epoch));
  }

  @SuppressWarnings("unchecked")
  public void addSlots(String step, int first, int last) {
    run(step, c -> c.clusterAddSlotsRange(Range.create(first, last)));
  }

  public void setSlotImporting(String step, int slot, String sourceId) {
    run(step, c -> c.clusterSetSlotImporting(slot, sourceId));
  }

  public void setSlotMigrating(String step, int slot, String targetId) {
    run(step, c -> c.clusterSetSlotMigrating(slot, targetId));
  }

  public void setSlotNode(String step, int slot, String ownerId) {
    run(step, c -> c.clusterSetSlotNode(slot, ownerId));
  }

  public void setSlotStable(String step, int slot) {
    run(step, c -> c.clusterSetSlotStable(slot));
  }

  public List<byte[]> keysInSlot(String step, int slot, int count) {
    return run(step, c -> c.clusterGetKeysInSlot(slot, count));
  }

  public long countKeysInSlot(String step, int slot) {
    return run(step, c -> c.clusterCountKeysInSlot(slot));
  }

  /**
   * MIGRATE of a batch of keys to another node; REPLACE because the source copy is authoritative.
   */
  public void migrate(String step, NodeAddress target, List<byte[]> keys, long timeoutMillis) {
    MigrateArgs<byte[]> args = MigrateArgs.Builder.<byte[]>keys(keys).replace();
    if (password != null) {
      args = args.auth2(username, password);
    }
    MigrateArgs<byte[]> finalArgs = args;
    run(step, c -> c.migrate(target.host(), target.port(), 0, timeoutMillis, finalArgs));
  }

  /** INFO replication as a map of its fields. */
  public Map<String, String> replicationInfo(String step) {
    String text = run(step, c -> c.info("replication"));
    Map<String, String> out = new LinkedHashMap<>();
    for (String line : text.split("\r?\n")) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        out.put(line.substring(0, colon), line.substring(colon + 1).trim());
      }
    }
    return out;
  }

  public String ping(String step) {
    return run(step, RedisCommands::ping);
  }

  static String text(byte[] bytes) {
    return new String(bytes, StandardCharsets.UTF_8);
  }
}
