package io.valkeyk8s.testserver;

import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import java.time.Duration;

/**
 * Everything needed to open connections to Valkey, checked at start: where and as whom ({@link
 * ValkeyTarget}), TLS, the command timeout and the mode. Standalone connections go through one
 * address (the primary Service) and are replaced after a failure ({@link ResilientConnection});
 * cluster connections start at that address and then follow the cluster's topology ({@link
 * ClusterConnection}).
 *
 * @param timeout command and connect timeout
 * @param topologyRefresh cluster mode: how often the topology is refreshed (and the least time
 *     between two refreshes on MOVED, ASK or persistent reconnects); {@code null}: standalone
 */
public record Connector(
    ValkeyTarget target, TlsSettings tls, Duration timeout, Duration topologyRefresh) {

  /** A TLS handshake may take longer than a command: the first one warms up the JVM's crypto. */
  static final Duration MIN_HANDSHAKE_TIMEOUT = Duration.ofSeconds(1);

  /** Standalone, without TLS. */
  public static Connector standalone(ValkeyTarget target, Duration timeout) {
    return new Connector(target, TlsSettings.OFF, timeout, null);
  }

  public boolean cluster() {
    return topologyRefresh != null;
  }

  /** {@code standalone} or {@code cluster}, for reports. */
  public String mode() {
    return cluster() ? "cluster" : "standalone";
  }

  /** Opens a connection of this mode; it connects on first use. */
  public ValkeyConnection open() {
    return cluster() ? new ClusterConnection(this) : new ResilientConnection(this);
  }

  RedisURI uri() {
    return tls.applyTo(
            RedisURI.builder()
                .withHost(target.host())
                .withPort(target.port())
                .withAuthentication(target.username(), target.password().toCharArray())
                .withTimeout(timeout))
        .build();
  }

  SocketOptions socketOptions() {
    return SocketOptions.builder().connectTimeout(timeout).keepAlive(true).build();
  }

  /** Lettuce's TLS options, or {@code null} without TLS. */
  SslOptions sslOptions() {
    return tls.sslOptions(
        timeout.compareTo(MIN_HANDSHAKE_TIMEOUT) > 0 ? timeout : MIN_HANDSHAKE_TIMEOUT);
  }
}
