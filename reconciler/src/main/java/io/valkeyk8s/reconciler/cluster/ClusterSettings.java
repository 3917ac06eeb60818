package io.valkeyk8s.reconciler.cluster;

import io.valkeyk8s.reconciler.valkey.Credentials;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import java.time.Duration;
import java.util.Map;

/**
 * Settings of the cluster commands, read once from the environment and validated so that a bad
 * value stops the process at start with one clear line.
 */
public record ClusterSettings(
    int masters,
    int replicasPerMaster,
    int port,
    String username,
    String password,
    String namespace,
    String podSelector,
    Duration resyncInterval) {

  public static final int MIN_MASTERS = 3;

  /** Pods the StatefulSet has for this topology: one primary and R replicas per shard. */
  public int podCount() {
    return masters * (1 + replicasPerMaster);
  }

  /**
   * Connections to the nodes: 30 s timeouts (SETSLOT and MIGRATE wait for replicas), reconnects in
   * the background, a thread per core for the migration workers.
   */
  public NodeClients nodeClients() {
    return NodeClients.withOwnThreads(
        Math.max(2, Runtime.getRuntime().availableProcessors()),
        Credentials.user(username, java.util.Optional.ofNullable(password)),
        java.time.Duration.ofSeconds(30),
        true);
  }

  public ShardLayout layout() {
    return new ShardLayout(masters, replicasPerMaster);
  }

  /**
   * Reads and validates the variables; throws {@link InvalidSettingsException} naming the first bad
   * one.
   */
  public static ClusterSettings fromEnv(Map<String, String> env) {
    String mastersText = env.get("VALKEY_CLUSTER_MASTERS");
    if (mastersText == null || mastersText.isBlank()) {
      throw new InvalidSettingsException("VALKEY_CLUSTER_MASTERS is required in cluster commands");
    }
    int masters = integer(env, "VALKEY_CLUSTER_MASTERS", "0");
    if (masters < MIN_MASTERS) {
      throw new InvalidSettingsException(
          "VALKEY_CLUSTER_MASTERS="
              + masters
              + " is below "
              + MIN_MASTERS
              + " (a Valkey Cluster needs a majority of masters to fail over)");
    }
    int replicas = integer(env, "VALKEY_CLUSTER_REPLICAS_PER_MASTER", "0");
    if (replicas < 0) {
      throw new InvalidSettingsException(
          "VALKEY_CLUSTER_REPLICAS_PER_MASTER=" + replicas + " must be 0 or more");
    }
    int port = integer(env, "VALKEY_PORT", "6379");
    if (port < 1 || port > 55535) {
      throw new InvalidSettingsException(
          "VALKEY_PORT=" + port + " must be within 1..55535 (the cluster bus uses port+10000)");
    }
    int resync = integer(env, "RESYNC_SECONDS", "10");
    if (resync < 1) {
      throw new InvalidSettingsException("RESYNC_SECONDS=" + resync + " must be 1 or more");
    }
    String selector = env.getOrDefault("VALKEY_POD_SELECTOR", "app.kubernetes.io/component=valkey");
    if (selector.isBlank()) {
      throw new InvalidSettingsException("VALKEY_POD_SELECTOR must not be empty");
    }
    String namespace = env.getOrDefault("POD_NAMESPACE", "default");
    if (namespace.isBlank()) {
      throw new InvalidSettingsException("POD_NAMESPACE must not be empty");
    }
    String password = env.get("VALKEY_PASSWORD");
    return new ClusterSettings(
        masters,
        replicas,
        port,
        env.getOrDefault("VALKEY_USERNAME", "admin"),
        password == null || password.isEmpty() ? null : password,
        namespace,
        selector,
        Duration.ofSeconds(resync));
  }

  private static int integer(Map<String, String> env, String name, String fallback) {
    String text = env.getOrDefault(name, fallback).trim();
    try {
      return Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw new InvalidSettingsException(name + "='" + text + "' is not a whole number");
    }
  }

  @Override
  public String toString() {
    // Never print the password.
    return "masters="
        + masters
        + " replicasPerMaster="
        + replicasPerMaster
        + " port="
        + port
        + " username="
        + username
        + " namespace="
        + namespace
        + " selector="
        + podSelector;
  }

  /** A setting is missing or wrong; the message is the one line printed before exit 2. */
  public static final class InvalidSettingsException extends RuntimeException {
    public InvalidSettingsException(String message) {
      super(message);
    }
  }
}
