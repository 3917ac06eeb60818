package io.valkeyk8s.reconciler.cluster;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.codec.ByteArrayCodec;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** One connection per node address, opened on first use and reopened after a failure. */
public final class NodeClients implements AutoCloseable {
  private final RedisClient redis;
  private final boolean ownsRedis;
  private final String username;
  private final String password;
  private final Map<NodeAddress, NodeClient> open = new ConcurrentHashMap<>();

  public NodeClients(String username, String password, Duration commandTimeout) {
    this.username = username;
    this.password = password;
    this.redis = RedisClient.create();
    this.ownsRedis = true;
    // Reconnect in the background (a node drops clients when it turns replica), but a command
    // sent while disconnected fails at once instead of waiting in a queue.
    redis.setOptions(
        ClientOptions.builder()
            .autoReconnect(true)
            .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
            .socketOptions(SocketOptions.builder().connectTimeout(Duration.ofSeconds(3)).build())
            .timeoutOptions(io.lettuce.core.TimeoutOptions.enabled(commandTimeout))
            .build());
  }

  private NodeClients(NodeClients parent) {
    this.username = parent.username;
    this.password = parent.password;
    this.redis = parent.redis;
    this.ownsRedis = false;
  }

  /** Same client and credentials, its own connections (for a worker whose commands may block). */
  public NodeClients fork() {
    return new NodeClients(this);
  }

  public static NodeClients forSettings(ClusterSettings settings) {
    return new NodeClients(settings.username(), settings.password(), Duration.ofSeconds(30));
  }

  /**
   * A client for the pod's node; throws {@link StepFailedException} naming the step when
   * unreachable.
   */
  public NodeClient client(String step, ClusterPod pod) {
    if (pod.address() == null) {
      throw new StepFailedException(step, pod.name(), "the pod has no IP yet");
    }
    return client(step, pod.name(), pod.address());
  }

  public NodeClient client(String step, String name, NodeAddress address) {
    NodeClient existing = open.get(address);
    if (existing != null && existing.isOpen()) {
      return existing;
    }
    RedisURI.Builder uri =
        RedisURI.builder()
            .withHost(address.host())
            .withPort(address.port())
            .withTimeout(Duration.ofSeconds(30));
    if (password != null) {
      uri.withAuthentication(username, password.toCharArray());
    }
    try {
      NodeClient created =
          new NodeClient(
              name,
              address,
              redis.connect(ByteArrayCodec.INSTANCE, uri.build()),
              username,
              password);
      open.put(address, created);
      return created;
    } catch (RuntimeException e) {
      throw new StepFailedException(
          step, name + " (" + address + ")", "unreachable: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    open.values().forEach(NodeClient::close);
    open.clear();
    if (ownsRedis) {
      redis.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
  }
}
