package io.valkeyk8s.reconciler.core;

import java.util.Map;
import java.util.Optional;

/**
 * Typed reads of environment variables with defaults and validation. Every failure is a {@link
 * ConfigException} naming the variable, so the process can print one line and exit 2.
 */
public final class Env {
  private final Map<String, String> vars;

  public Env(Map<String, String> vars) {
    this.vars = Map.copyOf(vars);
  }

  /** The value, or empty when unset or blank. */
  public Optional<String> optional(String name) {
    String value = vars.get(name);
    return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.trim());
  }

  /** Set, but to nothing but blanks. */
  public boolean isBlank(String name) {
    String value = vars.get(name);
    return value != null && value.isBlank();
  }

  public String string(String name, String defaultValue) {
    return optional(name).orElse(defaultValue);
  }

  /** The value, which may be empty but not unset-and-defaulted (empty means "off"). */
  public String stringAllowEmpty(String name, String defaultValue) {
    String value = vars.get(name);
    return value == null ? defaultValue : value.trim();
  }

  public String required(String name) {
    return optional(name).orElseThrow(() -> new ConfigException(name, "is required but not set"));
  }

  public int integer(String name, int defaultValue, int min, int max) {
    Optional<String> raw = optional(name);
    if (raw.isEmpty()) {
      return defaultValue;
    }
    int value;
    try {
      value = Integer.parseInt(raw.get());
    } catch (NumberFormatException e) {
      throw new ConfigException(name, "'" + raw.get() + "' is not an integer");
    }
    if (value < min || value > max) {
      throw new ConfigException(name, value + " is out of range [" + min + ", " + max + "]");
    }
    return value;
  }

  public int port(String name, int defaultValue) {
    return integer(name, defaultValue, 1, 65535);
  }

  /** A Kubernetes label name (optional DNS-subdomain prefix and "/", then a name part). */
  public String labelName(String name, String defaultValue) {
    String value = string(name, defaultValue);
    if (!Labels.isValidName(value)) {
      throw new ConfigException(name, "'" + value + "' is not a valid Kubernetes label name");
    }
    return value;
  }

  public String labelValue(String name, String defaultValue) {
    String value = string(name, defaultValue);
    if (!Labels.isValidValue(value)) {
      throw new ConfigException(name, "'" + value + "' is not a valid Kubernetes label value");
    }
    return value;
  }

  /** true or false (any case); the default when unset. */
  public boolean flag(String name, boolean defaultValue) {
    Optional<String> raw = optional(name);
    if (raw.isEmpty()) {
      return defaultValue;
    }
    return switch (raw.get().toLowerCase(java.util.Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new ConfigException(name, "'" + raw.get() + "' is not true or false");
    };
  }

  /** A regular file this process can read, when set. */
  public Optional<java.nio.file.Path> readableFile(String name) {
    Optional<String> raw = optional(name);
    if (raw.isEmpty()) {
      return Optional.empty();
    }
    java.nio.file.Path file = java.nio.file.Path.of(raw.get());
    String problem =
        !java.nio.file.Files.exists(file)
            ? "no such file"
            : !java.nio.file.Files.isRegularFile(file)
                ? "not a file"
                : !java.nio.file.Files.isReadable(file) ? "permission denied" : null;
    if (problem != null) {
      throw new ConfigException(name, "cannot read " + file + " (" + problem + ")");
    }
    return Optional.of(file);
  }

  /**
   * A password from {@code NAME} or, re-read at every use, from the file {@code NAME_FILE} (a
   * mounted Secret, so that a rotated password needs no restart); not both.
   */
  public Password password(String name) {
    String fileVariable = name + "_FILE";
    Optional<java.nio.file.Path> file = readableFile(fileVariable);
    if (file.isEmpty()) {
      return Password.of(optional(name));
    }
    if (optional(name).isPresent()) {
      throw new ConfigException(
          fileVariable, "is set together with " + name + ": set one of them, not both");
    }
    Password password = Password.file(file.get());
    if (password.current().isEmpty()) {
      throw new ConfigException(fileVariable, file.get() + " is empty");
    }
    return password;
  }

  /** A label selector of the form k=v[,k=v...]. */
  public Map<String, String> selector(String name, String defaultValue) {
    String value = string(name, defaultValue);
    java.util.LinkedHashMap<String, String> result = new java.util.LinkedHashMap<>();
    for (String term : value.split(",")) {
      String[] kv = term.trim().split("=", -1);
      if (kv.length != 2
          || !Labels.isValidName(kv[0].trim())
          || !Labels.isValidValue(kv[1].trim())) {
        throw new ConfigException(
            name, "'" + value + "' is not a selector of the form key=value[,key=value]");
      }
      result.put(kv[0].trim(), kv[1].trim());
    }
    return Map.copyOf(result);
  }
}
