package io.valkeyk8s.reconciler.core;

/** Invalid configuration: the message is one line that names the variable and the problem. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String variable, String problem) {
    super(variable + ": " + problem);
  }
}
