package io.valkeyk8s.testserver;

import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.util.Optional;
import java.util.function.Function;

/**
 * A connection to Valkey, standalone or cluster, with the commands both modes have. Opened by
 * {@link Connector#open()}; connects on first use and again after failures as its mode requires.
 */
public interface ValkeyConnection extends AutoCloseable {

  /** Runs one call (connecting first when needed); Lettuce's exceptions pass through. */
  <T> T call(Function<RedisClusterCommands<String, String>, T> command);

  /**
   * Hands the asynchronous API to {@code commands} and sends what they issue as one pipeline,
   * flushed once at the end (per node in cluster mode); the caller awaits the futures it gets back.
   * For a connection that no other thread uses meanwhile.
   */
  <T> T pipeline(Function<RedisClusterAsyncCommands<String, String>, T> commands);

  /**
   * Tells the connection that a command failed outside {@link #call} (an awaited future), so it
   * starts over when the failure calls for it. Cluster connections recover by themselves.
   */
  default void dropAfter(Throwable failure) {}

  /** What the connection knows about the cluster; empty in standalone mode. */
  default Optional<ClusterView> clusterView() {
    return Optional.empty();
  }

  @Override
  void close();
}
