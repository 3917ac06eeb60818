package io.valkeyk8s.reconciler.cluster;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.UUID;

/**
 * Test fixture: the production ACL users of config/users.acl (admin, client, replication, sentinel,
 * default off) with fresh test passwords. The rules are read from the chart's file itself so the
 * tests run against exactly what the pods run; only the ${VALKEY_*_PASSWORD} placeholders are
 * filled in.
 */
record AclUsers(
    String adminPassword,
    String clientPassword,
    String replicationPassword,
    String sentinelPassword) {
  static final String ADMIN = "admin";
  static final String CLIENT = "client";
  static final String REPLICATION = "replication";

  static AclUsers random() {
    return new AclUsers(secret(), secret(), secret(), secret());
  }

  private static String secret() {
    return UUID.randomUUID().toString().replace("-", "");
  }

  /** The environment the reconciler gets in the chart: VALKEY_USERNAME=admin and its password. */
  Map<String, String> reconcilerEnv() {
    return Map.of("VALKEY_USERNAME", ADMIN, "VALKEY_PASSWORD", adminPassword);
  }

  /**
   * Renders config/users.acl with these passwords into file (what valkey-entrypoint does with
   * envsubst).
   */
  Path writeAclFile(Path file) throws IOException {
    String text =
        Files.readString(chartAclTemplate())
            .replace("${VALKEY_ADMIN_PASSWORD}", adminPassword)
            .replace("${VALKEY_CLIENT_PASSWORD}", clientPassword)
            .replace("${VALKEY_REPLICATION_PASSWORD}", replicationPassword)
            .replace("${VALKEY_SENTINEL_PASSWORD}", sentinelPassword);
    if (text.contains("${")) {
      throw new IOException(
          "config/users.acl has a placeholder this fixture does not know: " + text);
    }
    return Files.writeString(file, text);
  }

  /** config/users.acl of this checkout, found upwards from the module directory Maven runs in. */
  private static Path chartAclTemplate() throws IOException {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("config/users.acl");
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    throw new IOException("config/users.acl not found above " + Path.of("").toAbsolutePath());
  }

  @Override
  public String toString() {
    return "AclUsers[passwords hidden]";
  }
}
