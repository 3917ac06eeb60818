package io.valkeyk8s.reconciler.valkey;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.resource.ClientResources;
import io.valkeyk8s.reconciler.core.TlsSettings;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Connections to the Valkey data nodes, one per address, opened on first use and opened again once
 * closed. Keys and values are bytes (MIGRATE moves binary keys). Without auto-reconnect a
 * connection is also dropped after any failure, so a restarted node gets a fresh one at once and a
 * dead one fails fast instead of queueing commands. With TLS an address as Valkey or Sentinel
 * announced it is verified as announced, while a pod's IP from the pod cache ({@link #at(Address,
 * String)}) is dialled under the pod's stable name ({@link PodNames}), which its certificate
 * carries; a failed handshake is reported with its reason and the address.
 */
public final class NodeClients implements AutoCloseable {
  private final RedisClient client;
  private final boolean ownsClient;
  private final ClientResources ownResources;
  private final Credentials credentials;
  private final TlsSettings tls;
  private final PodNames names;
  private final Duration timeout;
  private final boolean autoReconnect;
  private final Map<Address, StatefulRedisConnection<byte[], byte[]>> connections =
      new ConcurrentHashMap<>();

  /**
   * @param timeout of every command and connect (see {@link LettuceClients#client})
   * @param autoReconnect reconnect in the background instead of dropping a failed connection
   */
  public NodeClients(
      ClientResources resources,
      Credentials credentials,
      TlsSettings tls,
      PodNames names,
      Duration timeout,
      boolean autoReconnect) {
    this(
        LettuceClients.client(resources, timeout, autoReconnect, tls),
        true,
        null,
        credentials,
        tls,
        names,
        timeout,
        autoReconnect);
  }

  /** With threads of its own ({@link LettuceClients#resources}), shut down on close; no TLS. */
  public static NodeClients withOwnThreads(
      int ioThreads, Credentials credentials, Duration timeout, boolean autoReconnect) {
    return withOwnThreads(
        ioThreads, credentials, TlsSettings.OFF, PodNames.NONE, timeout, autoReconnect);
  }

  /** With threads of its own, shut down on close. */
  public static NodeClients withOwnThreads(
      int ioThreads,
      Credentials credentials,
      TlsSettings tls,
      PodNames names,
      Duration timeout,
      boolean autoReconnect) {
    ClientResources resources =
        LettuceClients.resources(ioThreads, tls.enabled() ? names : PodNames.NONE);
    return new NodeClients(
        LettuceClients.client(resources, timeout, autoReconnect, tls),
        true,
        resources,
        credentials,
        tls,
        names,
        timeout,
        autoReconnect);
  }

  private NodeClients(
      RedisClient client,
      boolean ownsClient,
      ClientResources ownResources,
      Credentials credentials,
      TlsSettings tls,
      PodNames names,
      Duration timeout,
      boolean autoReconnect) {
    this.client = client;
    this.ownsClient = ownsClient;
    this.ownResources = ownResources;
    this.credentials = credentials;
    this.tls = tls;
    this.names = names;
    this.timeout = timeout;
    this.autoReconnect = autoReconnect;
  }

  /** Same client and credentials, its own connections (for a worker whose commands may block). */
  public NodeClients fork() {
    return new NodeClients(client, false, null, credentials, tls, names, timeout, autoReconnect);
  }

  /** The node at this address; nothing is connected until the first command. */
  public NodeClient at(Address address) {
    return new NodeClient(this, address, null, null);
  }

  /**
   * The node of a pod at this address (its IP from the pod cache), named in logs and errors; with
   * TLS it is dialled under the pod's stable name.
   */
  public NodeClient at(Address address, String name) {
    return new NodeClient(this, address, name, null);
  }

  Credentials credentials() {
    return credentials;
  }

  <T> T call(
      Address address, boolean podAddress, Function<RedisCommands<byte[], byte[]>, T> command) {
    StatefulRedisConnection<byte[], byte[]> c = connections.get(address);
    try {
      if (c == null || !c.isOpen()) {
        Address dial = podAddress ? dialled(address) : address;
        try {
          c =
              client.connect(
                  ByteArrayCodec.INSTANCE, LettuceClients.uri(dial, credentials, timeout, tls));
        } catch (RuntimeException e) {
          if (TlsFailure.of(e).isPresent()) {
            throw new RedisConnectionException(
                "TLS to " + dial + " failed: " + TlsFailure.of(e).get(), e);
          }
          throw e;
        }
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

  /** The address a pod is dialled at: with TLS, its IP becomes its stable name (same port). */
  Address dialled(Address address) {
    if (!tls.enabled() || !PodNames.isIp(address.host())) {
      return address;
    }
    return names.nameOf(address.host()).map(n -> new Address(n, address.port())).orElse(address);
  }

  private static void closeIfOpen(StatefulRedisConnection<byte[], byte[]> c) {
    if (c != null && c.isOpen()) {
      c.closeAsync();
    }
  }

  @Override
  public void close() {
    if (ownsClient) {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2)); // closes its connections too
    } else {
      connections.values().forEach(NodeClients::closeIfOpen);
    }
    connections.clear();
    if (ownResources != null) {
      ownResources.shutdown(0, 2, java.util.concurrent.TimeUnit.SECONDS);
    }
  }
}
