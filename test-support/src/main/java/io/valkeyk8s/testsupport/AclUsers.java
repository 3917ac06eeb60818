package io.valkeyk8s.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/**
 * The production ACL users of config/users.acl (admin, client, replication, sentinel, default off)
 * with fresh test passwords. The rules are read from the chart's file itself so the tests run
 * against exactly what the pods run; only the ${VALKEY_*_PASSWORD} placeholders are filled in.
 * Sentinel's requirepass is the sentinel user's password, as in config/sentinel.conf.
 */
public record AclUsers(
    String adminPassword,
    String clientPassword,
    String replicationPassword,
    String sentinelPassword) {
  public static final String ADMIN = "admin";
  public static final String CLIENT = "client";
  public static final String REPLICATION = "replication";
  public static final String SENTINEL = "sentinel";

  public static AclUsers random() {
    return new AclUsers(secret(), secret(), secret(), secret());
  }

  private static String secret() {
    return UUID.randomUUID().toString().replace("-", "");
  }

  /**
   * Renders config/users.acl with these passwords into file (what valkey-entrypoint does with
   * envsubst).
   */
  public Path writeAclFile(Path file) throws IOException {
    String text =
        Files.readString(chartFile("config/users.acl"))
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

  /** A file of this checkout, found upwards from the module directory Maven runs in. */
  private static Path chartFile(String path) throws IOException {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve(path);
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    throw new IOException(path + " not found above " + Path.of("").toAbsolutePath());
  }

  @Override
  public String toString() {
    return "AclUsers[passwords hidden]";
  }
}
