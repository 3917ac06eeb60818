package io.valkeyk8s.testserver;

import java.time.Duration;
import java.util.Map;
import picocli.CommandLine.Option;

/** Where to write (from the environment) and how long one command may take. */
public final class ConnectionSettings {
  @Option(
      names = "--timeout",
      defaultValue = "250ms",
      converter = DurationConverter.class,
      description = "Command and connect timeout (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  /** The target from VALKEY_HOST, VALKEY_PORT, VALKEY_USERNAME and VALKEY_PASSWORD. */
  public ValkeyTarget target(Map<String, String> env) {
    return ValkeyTarget.fromEnv(env);
  }

  public Duration timeout() {
    return timeout;
  }
}
