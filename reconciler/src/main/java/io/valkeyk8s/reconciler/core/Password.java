package io.valkeyk8s.reconciler.core;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A password from the environment (fixed for the life of the process) or from a file, read again
 * every time it is needed: a mounted Secret that the kubelet updates when the Secret changes, so a
 * rotated password reaches new connections without a restart.
 */
public sealed interface Password {
  Password NONE = new None();

  /** The password now; empty when there is none. */
  Optional<String> current();

  static Password of(Optional<String> value) {
    return value.<Password>map(Value::new).orElse(NONE);
  }

  static Password file(Path path) {
    return new File(path);
  }

  /** No password: connections do not authenticate. */
  record None() implements Password {
    @Override
    public Optional<String> current() {
      return Optional.empty();
    }
  }

  record Value(String value) implements Password {
    @Override
    public Optional<String> current() {
      return Optional.of(value);
    }

    @Override
    public String toString() {
      return "Value[hidden]";
    }
  }

  /** The file's content without surrounding white space (a Secret key mounted as a file). */
  record File(Path path) implements Password {
    @Override
    public Optional<String> current() {
      try {
        String text = Files.readString(path).strip();
        return text.isEmpty() ? Optional.empty() : Optional.of(text);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the password file " + path, e);
      }
    }
  }
}
