package io.valkeyk8s.reconciler.sentinel;

import io.valkeyk8s.reconciler.core.Env;
import java.util.Map;
import java.util.Optional;

/**
 * Sentinel-mode settings, compatible with the original tool's environment.
 *
 * @param sentinelHost a Sentinel to start discovery from, usually the Sentinel Service
 * @param sentinelPort its port
 * @param sentinelPassword Sentinel's requirepass
 * @param masterName the name Sentinel monitors the primary under
 * @param labelName label that marks the primary pod
 * @param labelValue its value
 */
public record SentinelConfig(
    String sentinelHost,
    int sentinelPort,
    Optional<String> sentinelPassword,
    String masterName,
    String labelName,
    String labelValue) {

  public static SentinelConfig fromEnv(Map<String, String> vars) {
    Env env = new Env(vars);
    return new SentinelConfig(
        env.required("VALKEY_SENTINEL_HOST"),
        env.port("VALKEY_SENTINEL_PORT", 26379),
        env.optional("VALKEY_SENTINEL_PASSWORD"),
        env.string("VALKEY_MASTER_NAME", "myprimary"),
        env.labelName("MASTER_POD_LABEL_NAME", "valkey-master"),
        env.labelValue("MASTER_POD_LABEL_VALUE", "true"));
  }
}
