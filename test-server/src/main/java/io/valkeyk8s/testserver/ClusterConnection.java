package io.valkeyk8s.testserver;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.lettuce.core.cluster.event.AskRedirectionEvent;
import io.lettuce.core.cluster.event.ClusterTopologyChangedEvent;
import io.lettuce.core.cluster.event.MovedRedirectionEvent;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import reactor.core.Disposable;

/**
 * A Valkey Cluster connection through Lettuce's {@link RedisClusterClient}, seeded with the
 * target's address (the release's Service) and following the topology from there: refreshed
 * periodically and at once on MOVED, ASK, an unknown node, an uncovered slot or persistent
 * reconnects, so it follows failovers and slot moves as a cluster-aware application would.
 *
 * <p>Unlike {@link ResilientConnection}, Lettuce reconnects node connections itself (a node's
 * address is the node, not a Service that may point elsewhere), with a short backoff. Commands to a
 * node that is not connected wait for it, bounded by the command timeout: node connections are
 * opened on first use (a new primary after a failover, a new node during scale-up), and rejecting
 * commands meanwhile would count connection set-up as unavailability that applications do not see.
 * A write to a lost primary therefore fails by timeout until the topology names its successor.
 * Redirects are followed to any node the cluster names, also one not yet in the topology. A refresh
 * adopts only a view that covers every slot ({@link CoveringViewClusterClient}).
 */
public final class ClusterConnection implements ValkeyConnection {
  /** Reconnect backoff: 10 ms doubling to 500 ms (Lettuce's default grows to 30 s). */
  private static final Delay RECONNECT_DELAY =
      Delay.exponential(Duration.ofMillis(10), Duration.ofMillis(500), 2, TimeUnit.MILLISECONDS);

  private final ClientResources resources;
  private final RedisClusterClient client;
  private final Disposable events;
  private final AtomicLong topologyChanges = new AtomicLong();
  private final AtomicLong moved = new AtomicLong();
  private final AtomicLong ask = new AtomicLong();
  private volatile StatefulRedisClusterConnection<String, String> connection;

  ClusterConnection(Connector connector) {
    this.resources =
        ClientResources.builder()
            .ioThreadPoolSize(2)
            .computationThreadPoolSize(2)
            .reconnectDelay(RECONNECT_DELAY)
            .build();
    this.client = new CoveringViewClusterClient(resources, connector.uri());
    ClusterClientOptions.Builder options =
        ClusterClientOptions.builder()
            .autoReconnect(true)
            .disconnectedBehavior(ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS)
            .socketOptions(connector.socketOptions())
            .timeoutOptions(TimeoutOptions.enabled(connector.timeout()))
            .validateClusterNodeMembership(false)
            .topologyRefreshOptions(
                ClusterTopologyRefreshOptions.builder()
                    .enablePeriodicRefresh(connector.topologyRefresh())
                    .enableAllAdaptiveRefreshTriggers()
                    .adaptiveRefreshTriggersTimeout(connector.topologyRefresh())
                    .refreshTriggersReconnectAttempts(3)
                    .dynamicRefreshSources(true)
                    .closeStaleConnections(true)
                    .build());
    if (connector.tls().enabled()) {
      options.sslOptions(connector.sslOptions());
    }
    client.setOptions(options.build());
    this.events =
        resources
            .eventBus()
            .get()
            .subscribe(
                event -> {
                  switch (event) {
                    case ClusterTopologyChangedEvent e -> topologyChanges.incrementAndGet();
                    case MovedRedirectionEvent e -> moved.incrementAndGet();
                    case AskRedirectionEvent e -> ask.incrementAndGet();
                    default -> {
                      // other events are not counted
                    }
                  }
                });
  }

  @Override
  public <T> T call(Function<RedisClusterCommands<String, String>, T> command) {
    return command.apply(connection().sync());
  }

  @Override
  public <T> T pipeline(Function<RedisClusterAsyncCommands<String, String>, T> commands) {
    StatefulRedisClusterConnection<String, String> current = connection();
    current.setAutoFlushCommands(false);
    try {
      return commands.apply(current.async());
    } finally {
      current.flushCommands();
      current.setAutoFlushCommands(true);
    }
  }

  /** Connects on first use; until the seed answers, every call tries again. */
  private StatefulRedisClusterConnection<String, String> connection() {
    StatefulRedisClusterConnection<String, String> current = connection;
    if (current != null) {
      return current;
    }
    synchronized (this) {
      if (connection == null) {
        connection = client.connect();
      }
      return connection;
    }
  }

  @Override
  public Optional<ClusterView> clusterView() {
    StatefulRedisClusterConnection<String, String> current = connection;
    if (current == null) {
      return Optional.empty();
    }
    return Optional.of(
        ClusterView.of(current.getPartitions(), topologyChanges.get(), moved.get(), ask.get()));
  }

  @Override
  public void close() {
    events.dispose();
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    resources.shutdown(0, 2, TimeUnit.SECONDS);
  }
}
