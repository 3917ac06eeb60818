package io.valkeyk8s.testserver;

import java.util.Map;

/**
 * Where and as whom the test server writes: the primary Service and the {@code client} ACL user.
 * Built from the environment and validated at start, so a bad setting is one clear line, not a
 * stack trace during a failover.
 */
public record ValkeyTarget(String host, int port, String username, String password) {

  public static final String DEFAULT_HOST = "valkey";
  public static final int DEFAULT_PORT = 6379;
  public static final String DEFAULT_USERNAME = "client";

  /**
   * Reads {@code VALKEY_HOST}, {@code VALKEY_PORT}, {@code VALKEY_USERNAME}, {@code
   * VALKEY_PASSWORD}.
   */
  public static ValkeyTarget fromEnv(Map<String, String> env) {
    String host = valueOr(env, "VALKEY_HOST", DEFAULT_HOST);
    String username = valueOr(env, "VALKEY_USERNAME", DEFAULT_USERNAME);
    String password = env.get("VALKEY_PASSWORD");
    if (password == null || password.isEmpty()) {
      throw new IllegalArgumentException(
          "VALKEY_PASSWORD is not set: the password of user " + username + " is required");
    }
    return new ValkeyTarget(
        host, parsePort(valueOr(env, "VALKEY_PORT", "" + DEFAULT_PORT)), username, password);
  }

  private static String valueOr(Map<String, String> env, String name, String fallback) {
    String value = env.get(name);
    return value == null || value.isBlank() ? fallback : value.strip();
  }

  private static int parsePort(String text) {
    try {
      int port = Integer.parseInt(text);
      if (port >= 1 && port <= 65535) {
        return port;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("VALKEY_PORT must be a port number (1-65535), got: " + text);
  }

  /** host:port, for logs and reports (never the password). */
  public String address() {
    return host + ":" + port;
  }

  @Override
  public String toString() {
    return "ValkeyTarget[" + username + "@" + address() + "]";
  }
}
