package io.valkeyk8s.reconciler.valkey;

import io.valkeyk8s.reconciler.core.Config;
import io.valkeyk8s.reconciler.core.Password;
import java.util.Optional;

/**
 * How a connection logs in: an ACL user and its password, a password alone (a Sentinel's
 * requirepass), or nothing when there is no password. The password is asked for at every connect (a
 * file-backed one may have been rotated since).
 */
public record Credentials(Optional<String> username, Password password) {
  public static final Credentials NONE = new Credentials(Optional.empty(), Password.NONE);

  /** The ACL user the reconciler logs in as on the data nodes (VALKEY_USERNAME/PASSWORD). */
  public static Credentials admin(Config config) {
    return new Credentials(Optional.of(config.valkeyUsername()), config.valkeyPassword());
  }

  public static Credentials user(String username, Optional<String> password) {
    return new Credentials(Optional.of(username), Password.of(password));
  }

  public static Credentials password(Password password) {
    return new Credentials(Optional.empty(), password);
  }

  /** True when connections authenticate. */
  boolean authenticates() {
    return !(password instanceof Password.None);
  }
}
