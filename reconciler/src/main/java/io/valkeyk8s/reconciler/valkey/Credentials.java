package io.valkeyk8s.reconciler.valkey;

import io.valkeyk8s.reconciler.core.Config;
import java.util.Optional;

/**
 * How a connection logs in: an ACL user and its password, a password alone (a Sentinel's
 * requirepass), or nothing when there is no password.
 */
public record Credentials(Optional<String> username, Optional<String> password) {
  public static final Credentials NONE = new Credentials(Optional.empty(), Optional.empty());

  /** The ACL user the reconciler logs in as on the data nodes (VALKEY_USERNAME/PASSWORD). */
  public static Credentials admin(Config config) {
    return user(config.valkeyUsername(), config.valkeyPassword());
  }

  public static Credentials user(String username, Optional<String> password) {
    return new Credentials(Optional.of(username), password);
  }

  public static Credentials password(Optional<String> password) {
    return new Credentials(Optional.empty(), password);
  }
}
