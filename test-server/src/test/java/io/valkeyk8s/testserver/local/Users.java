package io.valkeyk8s.testserver.local;

/**
 * The ACL users of config/README.md, with test passwords: {@code admin} (all), {@code client} (data
 * commands, no dangerous ones), {@code replication} and {@code sentinel} (only what they need),
 * {@code default} off.
 */
public final class Users {
  public static final String ADMIN_PASSWORD = "admin-pw";
  public static final String CLIENT_PASSWORD = "client-pw";
  public static final String REPLICATION_PASSWORD = "replication-pw";
  public static final String SENTINEL_PASSWORD = "sentinel-pw";

  private Users() {}

  /** Config lines for valkey.conf. */
  static String aclLines() {
    return String.join(
        "\n",
        "user default off",
        "user admin on >" + ADMIN_PASSWORD + " ~* &* +@all",
        "user client on >" + CLIENT_PASSWORD + " ~* &* +@all -@dangerous",
        "user replication on >" + REPLICATION_PASSWORD + " +psync +replconf +ping",
        "user sentinel on >"
            + SENTINEL_PASSWORD
            + " allchannels +multi +slaveof +ping +exec"
            + " +subscribe +config|rewrite +role +publish +info +client|setname +client|kill"
            + " +script|kill",
        "");
  }
}
