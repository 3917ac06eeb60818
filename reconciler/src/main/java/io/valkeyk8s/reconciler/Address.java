package io.valkeyk8s.reconciler;

/** A host (IP or DNS name, as announced by Valkey or Sentinel) and a port. */
public record Address(String host, int port) {
  public static Address parse(String hostPort) {
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("not host:port: " + hostPort);
    }
    return new Address(
        hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
  }

  @Override
  public String toString() {
    return host + ":" + port;
  }
}
