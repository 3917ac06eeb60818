package io.valkeyk8s.testserver;

import java.time.Duration;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * How to reach Valkey: the target and TLS from the environment, the mode and timeouts from the
 * command line. Shared by every command.
 */
public final class ConnectionSettings {
  /** The probe's and the server's command timeout: short, so downtime is measured finely. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(250);

  @Option(
      names = "--timeout",
      converter = DurationConverter.class,
      description = "Command and connect timeout (default: 250ms; keys: 5s).")
  Duration timeout;

  @Option(
      names = "--cluster",
      description =
          "Valkey Cluster: VALKEY_HOST:VALKEY_PORT (the release's Service) is the seed, the"
              + " topology is followed from there.")
  boolean cluster;

  @Option(
      names = "--topology-refresh",
      defaultValue = "1s",
      converter = DurationConverter.class,
      description =
          "Cluster mode: refresh the topology this often, and at most this often on MOVED, ASK"
              + " or reconnects (default: ${DEFAULT-VALUE}).")
  Duration topologyRefresh;

  /** The connector from the environment, with the default command timeout. */
  public Connector connector(Map<String, String> env) {
    return connector(env, DEFAULT_TIMEOUT);
  }

  /**
   * The connector from the environment ({@link ValkeyTarget#fromEnv}, {@link TlsSettings#fromEnv}).
   *
   * @param defaultTimeout the timeout when {@code --timeout} is not given
   */
  public Connector connector(Map<String, String> env, Duration defaultTimeout) {
    ValkeyTarget target = ValkeyTarget.fromEnv(env);
    TlsSettings tls = TlsSettings.fromEnv(env);
    Duration commandTimeout = timeout == null ? defaultTimeout : timeout;
    if (commandTimeout.isZero()) {
      throw new IllegalArgumentException("--timeout must be more than 0");
    }
    if (topologyRefresh.isZero()) {
      throw new IllegalArgumentException("--topology-refresh must be more than 0");
    }
    return new Connector(target, tls, commandTimeout, cluster ? topologyRefresh : null);
  }
}
