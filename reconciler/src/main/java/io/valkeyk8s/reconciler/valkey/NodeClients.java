package io.valkeyk8s.reconciler.valkey;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.resource.ClientResources;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Connections to the Valkey data nodes, one per address, opened on first use and opened again once
 * closed. Keys and values are bytes (MIGRATE moves binary keys). Without auto-reconnect a
 * connection is also dropped after any failure, so a restarted node gets a fresh one at once and a
 * dead one fails fast instead of queueing commands.
 */
public final class NodeClients implements AutoCloseable {
  private final RedisClient client;
  private final boolean ownsClient;
  private final ClientResources ownResources;
  private final Credentials credentials;
  private final Duration timeout;
  private final boolean autoReconnect;
  private final Map<Address, StatefulRedisConnection<byte[], byte[]>> connections =
      new ConcurrentHashMap<>();

  /**
   * @param timeout of every command and connect (see {@link LettuceClients#client})
   * @param autoReconnect reconnect in the background instead of dropping a failed connection
   */
  public NodeClients(
      ClientResources resources, Credentials credentials, Duration timeout, boolean autoReconnect) {
    this(
        LettuceClients.client(resources, timeout, autoReconnect),
        true,
        null,
        credentials,
        timeout,
        autoReconnect);
  }

  /** With threads of its own ({@link LettuceClients#resources}), shut down on close. */
  public static NodeClients withOwnThreads(
      int ioThreads, Credentials credentials, Duration timeout, boolean autoReconnect) {
    ClientResources resources = LettuceClients.resources(ioThreads);
    return new NodeClients(
        LettuceClients.client(resources, timeout, autoReconnect),
        true,
        resources,
        credentials,
        timeout,
        autoReconnect);
  }

  private NodeClients(
      RedisClient client,
      boolean ownsClient,
      ClientResources ownResources,
      Credentials credentials,
      Duration timeout,
      boolean autoReconnect) {
    this.client = client;
    this.ownsClient = ownsClient;
    this.ownResources = ownResources;
    this.credentials = credentials;
    this.timeout = timeout;
    this.autoReconnect = autoReconnect;
  }

  /** Same client and credentials, its own connections (for a worker whose commands may block). */
  public NodeClients fork() {
    return new NodeClients(client, false, null, credentials, timeout, autoReconnect);
  }

  /** The node at this address; nothing is connected until the first command. */
  public NodeClient at(Address address) {
    return new NodeClient(this, address, null, null);
  }

  /** The node at this address, named (a pod name) in logs and errors. */
  public NodeClient at(Address address, String name) {
    return new NodeClient(this, address, name, null);
  }

  Credentials credentials() {
    return credentials;
  }

  <T> T call(Address address, Function<RedisCommands<byte[], byte[]>, T> command) {
    StatefulRedisConnection<byte[], byte[]> c = connections.get(address);
    try {
      if (c == null || !c.isOpen()) {
        c =
            client.connect(
                ByteArrayCodec.INSTANCE, LettuceClients.uri(address, credentials, timeout));
        closeIfOpen(connections.put(address, c));
      }
      return command.apply(c.sync());
    } catch (RuntimeException e) {
      if (!autoReconnect) {
        closeIfOpen(connections.remove(address));
      }
      throw e;
    }
  }

  private static void closeIfOpen(StatefulRedisConnection<byte[], byte[]> c) {
    if (c != null && c.isOpen()) {
      c.closeAsync();
    }
  }

  @Override
  public void close() {
    connections.values().forEach(NodeClients::closeIfOpen);
    connections.clear();
    if (ownsClient) {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
    if (ownResources != null) {
      ownResources.shutdown(0, 2, java.util.concurrent.TimeUnit.SECONDS);
    }
  }
}
