package io.valkeyk8s.reconciler.valkey;

import io.lettuce.core.ClientListArgs;
import io.lettuce.core.KillArgs;
import io.lettuce.core.MigrateArgs;
import io.lettuce.core.Range;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.output.CommandOutput;
import io.lettuce.core.output.NestedMultiOutput;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.valkeyk8s.reconciler.core.StepFailedException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * What both modes say to one Valkey node: replication and client commands (ROLE, INFO, REPLICAOF,
 * CLIENT KILL/PAUSE) and the CLUSTER commands. A failure throws Lettuce's exception; on a client
 * made with {@link #step}, a {@link StepFailedException} naming the step and this node.
 */
public final class NodeClient {
  private final NodeClients owner;
  private final Address address;
  private final String name;
  private final String step;

  NodeClient(NodeClients owner, Address address, String name, String step) {
    this.owner = owner;
    this.address = address;
    this.name = name;
    this.step = step;
  }

  public Address address() {
    return address;
  }

  /** Name and address ("valkey-3 (10.42.0.7:6379)"), or the address, for errors and logs. */
  public String describe() {
    return name == null ? address.toString() : name + " (" + address + ")";
  }

  /** The same node, whose failures read "step 'STEP' failed on NAME (ADDRESS): cause". */
  public NodeClient step(String step) {
    return new NodeClient(owner, address, name, step);
  }

  /** Any other command, on this node's connection. */
  public <T> T call(Function<RedisCommands<byte[], byte[]>, T> command) {
    try {
      return owner.call(address, name != null, command);
    } catch (StepFailedException e) {
      throw e;
    } catch (RuntimeException e) {
      if (step == null) {
        throw e;
      }
      throw new StepFailedException(step, describe(), String.valueOf(e.getMessage()), e);
    }
  }

  public Role role() {
    return call(c -> Role.parse(c.role()));
  }

  /** INFO of one section as a map of its fields. */
  public Map<String, String> info(String section) {
    return fields(call(c -> c.info(section)));
  }

  public String ping() {
    return call(RedisCommands::ping);
  }

  /** REPLICAOF: replicate from this primary (a no-op when already replicating from it). */
  public void replicaOf(Address primary) {
    call(c -> c.replicaof(primary.host(), primary.port()));
  }

  /**
   * CLIENT KILL of every normal client except this connection and Sentinel's own links (named
   * {@code sentinel-*}: killing them would only slow Sentinel down in turning a zombie into a
   * replica). Replicas are not normal clients. Returns how many were disconnected.
   */
  public long killNormalClients() {
    return call(
        c -> {
          long self = c.clientId();
          long killed = 0;
          for (String line : c.clientList(ClientListArgs.Builder.typeNormal()).split("\n")) {
            Map<String, String> fields = clientFields(line);
            String id = fields.get("id");
            if (id == null
                || Long.parseLong(id) == self
                || fields.getOrDefault("name", "").startsWith("sentinel-")) {
              continue;
            }
            killed += c.clientKill(KillArgs.Builder.id(Long.parseLong(id)));
          }
          return killed;
        });
  }

  /** The fields of one CLIENT LIST line. */
  public static Map<String, String> clientFields(String line) {
    Map<String, String> fields = new HashMap<>();
    for (String kv : line.trim().split(" ")) {
      int eq = kv.indexOf('=');
      if (eq > 0) {
        fields.put(kv.substring(0, eq), kv.substring(eq + 1));
      }
    }
    return fields;
  }

  /** CONFIG SET of one parameter (e.g. replica-priority). */
  public void configSet(String parameter, String value) {
    call(c -> c.configSet(parameter, value));
  }

  /** CLIENT PAUSE ms WRITE: writes block, reads and replication go on. */
  public void pauseWrites(Duration timeout) {
    client("PAUSE", String.valueOf(timeout.toMillis()), "WRITE");
  }

  public void unpause() {
    client("UNPAUSE");
  }

  private void client(String... args) {
    call(
        c -> {
          CommandArgs<byte[], byte[]> a = new CommandArgs<>(ByteArrayCodec.INSTANCE);
          for (String arg : args) {
            a.add(arg);
          }
          return c.dispatch(CommandType.CLIENT, new StatusOutput<>(ByteArrayCodec.INSTANCE), a);
        });
  }

  public String myId() {
    return call(RedisCommands::clusterMyId);
  }

  /** CLUSTER NODES as the node prints it. */
  public String clusterNodes() {
    return call(RedisCommands::clusterNodes);
  }

  /** CLUSTER INFO as a map of its fields. */
  public Map<String, String> clusterInfo() {
    return fields(call(RedisCommands::clusterInfo));
  }

  public void meet(Address other) {
    call(c -> c.clusterMeet(other.host(), other.port()));
  }

  public void replicate(String masterId) {
    call(c -> c.clusterReplicate(masterId));
  }

  public void forget(String nodeId) {
    call(c -> c.clusterForget(nodeId));
  }

  public void failover() {
    call(c -> c.clusterFailover(false));
  }

  public void resetHard() {
    call(c -> c.clusterReset(true));
  }

  public void setConfigEpoch(long epoch) {
    call(c -> c.clusterSetConfigEpoch(epoch));
  }

  @SuppressWarnings("unchecked")
  public void addSlots(int first, int last) {
    call(c -> c.clusterAddSlotsRange(Range.create(first, last)));
  }

  public void setSlotImporting(int slot, String sourceId) {
    call(c -> c.clusterSetSlotImporting(slot, sourceId));
  }

  public void setSlotMigrating(int slot, String targetId) {
    call(c -> c.clusterSetSlotMigrating(slot, targetId));
  }

  public void setSlotNode(int slot, String ownerId) {
    call(c -> c.clusterSetSlotNode(slot, ownerId));
  }

  public void setSlotStable(int slot) {
    call(c -> c.clusterSetSlotStable(slot));
  }

  public List<byte[]> keysInSlot(int slot, int count) {
    return call(c -> c.clusterGetKeysInSlot(slot, count));
  }

  /**
   * MIGRATE of a batch of keys to another node, logging in there as this client does; REPLACE
   * because the source copy is authoritative.
   */
  public void migrate(Address target, List<byte[]> keys, long timeoutMillis) {
    MigrateArgs<byte[]> args = MigrateArgs.Builder.<byte[]>keys(keys).replace();
    Credentials login = owner.credentials();
    java.util.Optional<String> password = login.password().current();
    if (password.isPresent()) {
      args =
          login.username().isPresent()
              ? args.auth2(login.username().get(), password.get())
              : args.auth(password.get());
    }
    MigrateArgs<byte[]> finalArgs = args;
    call(c -> c.migrate(target.host(), target.port(), 0, timeoutMillis, finalArgs));
  }

  /**
   * CLUSTER MIGRATESLOTS (Valkey 9): one atomic slot migration job per target, each with its slot
   * ranges ({first, last} inclusive); this node must own every slot.
   */
  public void migrateSlots(Map<String, List<int[]>> rangesByTarget) {
    List<String> args = new java.util.ArrayList<>(List.of("MIGRATESLOTS"));
    rangesByTarget.forEach(
        (target, ranges) -> {
          args.add("SLOTSRANGE");
          ranges.forEach(
              r -> {
                args.add(String.valueOf(r[0]));
                args.add(String.valueOf(r[1]));
              });
          args.add("NODE");
          args.add(target);
        });
    cluster(() -> new StatusOutput<>(ByteArrayCodec.INSTANCE), args);
  }

  /**
   * CLUSTER GETSLOTMIGRATIONS (Valkey 9): the running and recent atomic slot migration jobs this
   * node takes part in, each as its fields (name, operation, slot_ranges, target_node, source_node,
   * create_time, state, message, ...), numbers as Long, the rest as String.
   */
  public List<Map<String, Object>> slotMigrations() {
    List<Object> jobs =
        cluster(
            () -> new NestedMultiOutput<>(ByteArrayCodec.INSTANCE), List.of("GETSLOTMIGRATIONS"));
    List<Map<String, Object>> out = new java.util.ArrayList<>();
    for (Object job : jobs) {
      List<?> kv = (List<?>) job;
      Map<String, Object> fields = new LinkedHashMap<>();
      for (int i = 0; i + 1 < kv.size(); i += 2) {
        Object v = kv.get(i + 1);
        fields.put(
            text(kv.get(i)), v instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : v);
      }
      out.add(fields);
    }
    return out;
  }

  /** CLUSTER CANCELSLOTMIGRATIONS (Valkey 9): cancels the migrations this node exports. */
  public void cancelSlotMigrations() {
    cluster(() -> new StatusOutput<>(ByteArrayCodec.INSTANCE), List.of("CANCELSLOTMIGRATIONS"));
  }

  /** The server's version from INFO server ({@code valkey_version}, else {@code redis_version}). */
  public String serverVersion() {
    Map<String, String> server = info("server");
    return server.getOrDefault("valkey_version", server.get("redis_version"));
  }

  private <T> T cluster(
      java.util.function.Supplier<CommandOutput<byte[], byte[], T>> output, List<String> args) {
    return call(
        c -> {
          CommandArgs<byte[], byte[]> a = new CommandArgs<>(ByteArrayCodec.INSTANCE);
          args.forEach(a::add);
          return c.dispatch(CommandType.CLUSTER, output.get(), a);
        });
  }

  private static String text(Object o) {
    return o instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : String.valueOf(o);
  }

  private static Map<String, String> fields(String text) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String line : text.split("\r?\n")) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        out.put(line.substring(0, colon), line.substring(colon + 1).trim());
      }
    }
    return out;
  }

  @Override
  public String toString() {
    return describe();
  }
}
