package io.valkeyk8s.reconciler.core;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * Settings every mode shares, read once from the environment and validated. Mode-specific settings
 * live next to their mode (for example {@code sentinel.SentinelConfig}).
 *
 * @param namespace namespace of the data pods (POD_NAMESPACE)
 * @param podSelector label selector of the data pods (VALKEY_POD_SELECTOR)
 * @param valkeyPort port of the data pods (VALKEY_PORT)
 * @param valkeyUsername ACL user for admin commands on the data pods (VALKEY_USERNAME)
 * @param valkeyPassword its password (VALKEY_PASSWORD)
 * @param httpPort health and metrics port (HTTP_PORT)
 * @param leaseName leader-election Lease; empty means no election (LEASE_NAME)
 * @param leaseDuration how long a Lease holds without renewal (LEASE_DURATION_SECONDS)
 * @param resync period of the full reconcile (RESYNC_SECONDS)
 * @param identity this replica's name in the Lease (POD_NAME, else the host name)
 */
public record Config(
    String namespace,
    Map<String, String> podSelector,
    int valkeyPort,
    String valkeyUsername,
    Optional<String> valkeyPassword,
    int httpPort,
    String leaseName,
    Duration leaseDuration,
    Duration resync,
    String identity) {

  public static Config fromEnv(Map<String, String> vars) {
    Env env = new Env(vars);
    String namespace = env.string("POD_NAMESPACE", "default");
    if (!namespace.matches("[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")) {
      throw new ConfigException(
          "POD_NAMESPACE", "'" + namespace + "' is not a valid namespace name");
    }
    String lease = env.stringAllowEmpty("LEASE_NAME", "valkey-reconciler");
    if (!lease.isEmpty() && !lease.matches("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")) {
      throw new ConfigException("LEASE_NAME", "'" + lease + "' is not a valid object name");
    }
    return new Config(
        namespace,
        env.selector("VALKEY_POD_SELECTOR", "app.kubernetes.io/component=valkey"),
        env.port("VALKEY_PORT", 6379),
        env.string("VALKEY_USERNAME", "admin"),
        env.optional("VALKEY_PASSWORD"),
        env.integer("HTTP_PORT", 8080, 0, 65535),
        lease,
        Duration.ofSeconds(env.integer("LEASE_DURATION_SECONDS", 15, 2, 300)),
        Duration.ofSeconds(env.integer("RESYNC_SECONDS", 10, 1, 3600)),
        env.string(
            "POD_NAME", env.string("HOSTNAME", "reconciler-" + ProcessHandle.current().pid())));
  }

  public boolean leaderElection() {
    return !leaseName.isEmpty();
  }
}
