package io.valkeyk8s.testserver;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
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
public final class ResilientConnection implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ResilientConnection.class);

  private final ClientResources resources;
  private final RedisClient client;
  private final RedisURI uri;
  private StatefulRedisConnection<String, String> connection;
  private long connects;

  public ResilientConnection(ValkeyTarget target, Duration timeout) {
    this.uri =
        RedisURI.builder()
            .withHost(target.host())
            .withPort(target.port())
            .withAuthentication(target.username(), target.password().toCharArray())
            .withTimeout(timeout)
            .build();
    this.resources =
        ClientResources.builder().ioThreadPoolSize(2).computationThreadPoolSize(2).build();
    this.client = RedisClient.create(resources);
    client.setOptions(
        ClientOptions.builder()
            .autoReconnect(false)
            .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
            .socketOptions(SocketOptions.builder().connectTimeout(timeout).keepAlive(true).build())
            .timeoutOptions(TimeoutOptions.enabled(timeout))
            .build());
  }

  /**
   * Runs one call, connecting first when needed. Any failure is rethrown after the connection is
   * dropped if the failure kind says it no longer reaches a writable primary.
   */
  public synchronized <T> T call(Function<RedisCommands<String, String>, T> command) {
    try {
      if (connection == null || !connection.isOpen()) {
        connection = client.connect(uri);
        connects++;
        if (connects > 1) {
          LOG.info(
              "reconnected to {} (connection #{})", uri.getHost() + ":" + uri.getPort(), connects);
        }
      }
      return command.apply(connection.sync());
    } catch (RuntimeException e) {
      if (needsNewConnection(ErrorKind.classify(e))) {
        drop();
      }
      throw e;
    }
  }

  /** How many connections were opened so far. */
  public synchronized long connects() {
    return connects;
  }

  static boolean needsNewConnection(ErrorKind kind) {
    return switch (kind) {
      case TIMEOUT, CONNECTION, READONLY, OTHER -> true;
      case NOREPLICAS, LOADING, MASTERDOWN, AUTH -> false;
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
