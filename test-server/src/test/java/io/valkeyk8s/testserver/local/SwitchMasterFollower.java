package io.valkeyk8s.testserver.local;

import io.lettuce.core.RedisClient;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.valkeyk8s.testsupport.LoopbackValkey;
import io.valkeyk8s.testsupport.ValkeyProcess;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Points a {@link TcpForwarder} at the new primary on the first {@code +switch-master} from any
 * Sentinel (the one running the failover announces it seconds after the others), standing in for
 * the reconciler moving the primary label.
 */
public final class SwitchMasterFollower implements AutoCloseable {
  /** The name the Sentinels monitor the primary under. */
  public static final String MASTER_NAME = "myprimary";

  private final List<StatefulRedisPubSubConnection<String, String>> subscriptions =
      new ArrayList<>();
  private volatile String lastSwitch;

  public SwitchMasterFollower(
      LoopbackValkey valkey, List<ValkeyProcess> sentinels, TcpForwarder forwarder) {
    RedisClient client = valkey.client();
    for (ValkeyProcess sentinel : sentinels) {
      StatefulRedisPubSubConnection<String, String> connection =
          client.connectPubSub(valkey.uri(sentinel));
      connection.addListener(
          new RedisPubSubAdapter<>() {
            @Override
            public void message(String channel, String message) {
              // "<name> <old-ip> <old-port> <new-ip> <new-port>"
              String[] parts = message.split(" ");
              if (parts.length == 5 && MASTER_NAME.equals(parts[0])) {
                lastSwitch = sentinel.name() + ": " + message;
                forwarder.pointTo(new InetSocketAddress(parts[3], Integer.parseInt(parts[4])));
              }
            }
          });
      connection.sync().subscribe("+switch-master");
      subscriptions.add(connection);
    }
  }

  /** The latest +switch-master seen (Sentinel and message), for the test output. */
  public String lastSwitch() {
    return lastSwitch;
  }

  @Override
  public void close() {
    subscriptions.forEach(StatefulRedisPubSubConnection::close);
  }
}
