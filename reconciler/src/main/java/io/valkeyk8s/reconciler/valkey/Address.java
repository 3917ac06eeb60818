package io.valkeyk8s.reconciler.valkey;

/** A host (IP or DNS name, as announced by Valkey or Sentinel, or a pod IP) and a port. */
public record Address(String host, int port) {
  @Override
  public String toString() {
    return host + ":" + port;
  }
}
