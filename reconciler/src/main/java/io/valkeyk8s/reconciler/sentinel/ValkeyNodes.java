package io.valkeyk8s.reconciler.sentinel;

import io.lettuce.core.KillArgs;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.resource.ClientResources;
import io.valkeyk8s.reconciler.Address;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Admin commands on the data nodes (ROLE, CLIENT KILL, CLIENT PAUSE, REPLICAOF): one cached
 * connection per address, dropped on any error so a restarted node gets a fresh one. No
 * auto-reconnect: a dead node must fail fast, not queue commands.
 */
public final class ValkeyNodes implements AutoCloseable {
  private final RedisClient client;
  private final Optional<String> username;
  private final Optional<String> password;
  private final Map<Address, StatefulRedisConnection<String, String>> connections =
      new ConcurrentHashMap<>();

  public ValkeyNodes(
      ClientResources resources, Optional<String> username, Optional<String> password) {
    this.client = LettuceClients.client(resources, false);
    this.username = username;
    this.password = password;
  }

  /** A replica as the primary's ROLE reports it. */
  public record Replica(Address address, long offset) {}

  /**
   * ROLE: "master" with its offset and replicas, "slave" (a replica, with its offset), or
   * "sentinel".
   */
  public record Role(String role, long offset, List<Replica> replicas) {
    public boolean isPrimary() {
      return "master".equals(role);
    }
  }

  public Role role(Address node) {
    return call(node, c -> parseRole(c.sync().role()));
  }

  static Role parseRole(List<Object> reply) {
    String role = String.valueOf(reply.get(0));
    if ("slave".equals(role) && reply.size() > 4) {
      // slave, primary host, primary port, link state, processed offset
      return new Role(role, ((Number) reply.get(4)).longValue(), List.of());
    }
    if (!"master".equals(role)) {
      return new Role(role, -1, List.of());
    }
    long offset = ((Number) reply.get(1)).longValue();
    List<Replica> replicas = new ArrayList<>();
    for (Object o : (List<?>) reply.get(2)) {
      List<?> r = (List<?>) o;
      replicas.add(
          new Replica(
              new Address(String.valueOf(r.get(0)), Integer.parseInt(String.valueOf(r.get(1)))),
              Long.parseLong(String.valueOf(r.get(2)))));
    }
    return new Role(role, offset, List.copyOf(replicas));
  }

  /**
   * CLIENT KILL of every normal client except this connection and Sentinel's own links (named
   * {@code sentinel-*}: killing them would only slow Sentinel down in turning a zombie into a
   * replica). Replicas are not normal clients. Returns how many were disconnected.
   */
  public long killNormalClients(Address node) {
    return call(
        node,
        c -> {
          long self = c.sync().clientId();
          long killed = 0;
          for (String line :
              c.sync()
                  .clientList(io.lettuce.core.ClientListArgs.Builder.typeNormal())
                  .split("\n")) {
            Map<String, String> fields = clientFields(line);
            String id = fields.get("id");
            if (id == null
                || Long.parseLong(id) == self
                || fields.getOrDefault("name", "").startsWith("sentinel-")) {
              continue;
            }
            killed += c.sync().clientKill(KillArgs.Builder.id(Long.parseLong(id)));
          }
          return killed;
        });
  }

  static Map<String, String> clientFields(String line) {
    Map<String, String> fields = new java.util.HashMap<>();
    for (String kv : line.trim().split(" ")) {
      int eq = kv.indexOf('=');
      if (eq > 0) {
        fields.put(kv.substring(0, eq), kv.substring(eq + 1));
      }
    }
    return fields;
  }

  /** CLIENT PAUSE ms WRITE: writes block, reads and replication go on. */
  public void pauseWrites(Address node, Duration timeout) {
    call(
        node,
        c ->
            c.sync()
                .dispatch(
                    CommandType.CLIENT,
                    new StatusOutput<>(StringCodec.UTF8),
                    new CommandArgs<>(StringCodec.UTF8)
                        .add("PAUSE")
                        .add(timeout.toMillis())
                        .add("WRITE")));
  }

  public void unpause(Address node) {
    call(
        node,
        c ->
            c.sync()
                .dispatch(
                    CommandType.CLIENT,
                    new StatusOutput<>(StringCodec.UTF8),
                    new CommandArgs<>(StringCodec.UTF8).add("UNPAUSE")));
  }

  /** REPLICAOF: replicate from this primary (a no-op when already replicating from it). */
  public void replicaOf(Address node, Address primary) {
    call(node, c -> c.sync().replicaof(primary.host(), primary.port()));
  }

  private <T> T call(
      Address node,
      java.util.function.Function<StatefulRedisConnection<String, String>, T> command) {
    StatefulRedisConnection<String, String> c = connections.get(node);
    try {
      if (c == null || !c.isOpen()) {
        c =
            client.connect(
                LettuceClients.uri(
                    node, password.isPresent() ? username : Optional.empty(), password));
        connections.put(node, c);
      }
      return command.apply(c);
    } catch (RuntimeException e) {
      StatefulRedisConnection<String, String> broken = connections.remove(node);
      if (broken != null) {
        broken.closeAsync();
      }
      throw e;
    }
  }

  @Override
  public void close() {
    connections.values().forEach(StatefulRedisConnection::closeAsync);
    connections.clear();
    client.shutdown(Duration.ZERO, Duration.ofSeconds(1));
  }
}
