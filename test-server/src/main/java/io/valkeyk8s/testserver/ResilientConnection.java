package io.valkeyk8s.testserver;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.lettuce.core.resource.ClientResources;
import io.valkeyk8s.testserver.probe.ErrorKind;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection to the primary Service that is thrown away and opened again after a failure that
 * means "this socket no longer reaches a writable primary". Lettuce's own reconnect is off: its
 * backoff grows to seconds and it queues commands while disconnected, which would blur the
 * unavailability the probe is there to measure. Connecting again goes through the Service address,
 * so it reaches whichever pod is primary now, as an application would.
 */
public final class ResilientConnection implements ValkeyConnection {
  private static final Logger LOG = LoggerFactory.getLogger(ResilientConnection.class);

  private final ClientResources resources;
  private final RedisClient client;
  private final RedisURI uri;
  private StatefulRedisConnection<String, String> connection;
  private long connects;

  /** Standalone without TLS. */
  public ResilientConnection(ValkeyTarget target, Duration timeout) {
    this(Connector.standalone(target, timeout));
  }

  public ResilientConnection(Connector connector) {
    this.uri = connector.uri();
    this.resources =
        ClientResources.builder().ioThreadPoolSize(2).computationThreadPoolSize(2).build();
    this.client = RedisClient.create(resources);
    ClientOptions.Builder options =
        ClientOptions.builder()
            .autoReconnect(false)
            .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
            .socketOptions(connector.socketOptions())
            .timeoutOptions(TimeoutOptions.enabled(connector.timeout()));
    if (connector.tls().enabled()) {
      options.sslOptions(connector.sslOptions());
    }
    client.setOptions(options.build());
  }

  /**
   * Runs one call, connecting first when needed. Any failure is rethrown after the connection is
   * dropped if the failure kind says it no longer reaches a writable primary.
   */
  @Override
  public synchronized <T> T call(Function<RedisClusterCommands<String, String>, T> command) {
    try {
      return command.apply(connected().sync());
    } catch (RuntimeException e) {
      dropAfter(e);
      throw e;
    }
  }

  @Override
  public synchronized <T> T pipeline(
      Function<RedisClusterAsyncCommands<String, String>, T> commands) {
    try {
      StatefulRedisConnection<String, String> current = connected();
      current.setAutoFlushCommands(false);
      try {
        return commands.apply(current.async());
      } finally {
        current.flushCommands();
        current.setAutoFlushCommands(true);
      }
    } catch (RuntimeException e) {
      dropAfter(e);
      throw e;
    }
  }

  /** Drops the connection if {@code failure} says it no longer reaches a writable primary. */
  @Override
  public synchronized void dropAfter(Throwable failure) {
    if (needsNewConnection(ErrorKind.classify(failure))) {
      drop();
    }
  }

  private StatefulRedisConnection<String, String> connected() {
    if (connection == null || !connection.isOpen()) {
      connection = client.connect(uri);
      connects++;
      if (connects > 1) {
        LOG.info(
            "reconnected to {} (connection #{})", uri.getHost() + ":" + uri.getPort(), connects);
      }
    }
    return connection;
  }

  /** How many connections were opened so far. */
  public synchronized long connects() {
    return connects;
  }

  static boolean needsNewConnection(ErrorKind kind) {
    return switch (kind) {
      case TIMEOUT, CONNECTION, TLS, READONLY, OTHER -> true;
      case NOREPLICAS, LOADING, MASTERDOWN, AUTH, MOVED, ASK, CLUSTERDOWN, TRYAGAIN -> false;
    };
  }

  private void drop() {
    if (connection != null) {
      connection.closeAsync();
      connection = null;
    }
  }

  @Override
  public synchronized void close() {
    connection = null; // closed by the client's shutdown
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    resources.shutdown(0, 2, TimeUnit.SECONDS);
  }
}
