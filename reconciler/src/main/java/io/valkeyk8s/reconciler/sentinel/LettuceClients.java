package io.valkeyk8s.reconciler.sentinel;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.protocol.ProtocolVersion;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.valkeyk8s.reconciler.Address;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Lettuce settings shared by every connection: short timeouts (a frozen node must not stall the
 * loop), fast reconnects, RESP2 (plain AUTH, flat Sentinel replies), few threads.
 */
final class LettuceClients {
  static final Duration COMMAND_TIMEOUT = Duration.ofMillis(1000);

  static {
    // Lettuce records its connection events with JFR when jdk.jfr is present, which loads and
    // initialises JFR (≈ 120 classes and its type metadata on the heap) in a process that never
    // records. An explicit -Dio.lettuce.core.jfr=true still wins.
    if (System.getProperty("io.lettuce.core.jfr") == null) {
      System.setProperty("io.lettuce.core.jfr", "false");
    }
  }

  private LettuceClients() {}

  static ClientResources resources() {
    return ClientResources.builder()
        // One event loop carries every Sentinel and Valkey connection (a dozen sockets).
        .ioThreadPoolSize(1)
        .computationThreadPoolSize(1)
        .reconnectDelay(
            Delay.exponential(
                Duration.ofMillis(100), Duration.ofSeconds(2), 2, TimeUnit.MILLISECONDS))
        .build();
  }

  static RedisClient client(ClientResources resources, boolean autoReconnect) {
    RedisClient client = RedisClient.create(resources);
    client.setOptions(
        ClientOptions.builder()
            .autoReconnect(autoReconnect)
            .protocolVersion(ProtocolVersion.RESP2)
            .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
            .timeoutOptions(TimeoutOptions.enabled(COMMAND_TIMEOUT))
            .socketOptions(SocketOptions.builder().connectTimeout(COMMAND_TIMEOUT).build())
            .build());
    return client;
  }

  static RedisURI uri(Address address, Optional<String> username, Optional<String> password) {
    RedisURI.Builder b =
        RedisURI.builder()
            .withHost(address.host())
            .withPort(address.port())
            .withTimeout(COMMAND_TIMEOUT);
    password.ifPresent(
        p -> {
          if (username.isPresent()) {
            b.withAuthentication(username.get(), p.toCharArray());
          } else {
            b.withPassword(p.toCharArray());
          }
        });
    return b.build();
  }
}
