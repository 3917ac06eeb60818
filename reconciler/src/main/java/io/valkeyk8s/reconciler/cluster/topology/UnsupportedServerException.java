package io.valkeyk8s.reconciler.cluster.topology;

/**
 * A node runs a server older than the features used: the one-shot commands print its message on one
 * line and exit 2 (a version to fix, not a step to retry).
 */
public final class UnsupportedServerException extends RuntimeException {
  public UnsupportedServerException(String message) {
    super(message);
  }
}
