package io.valkeyk8s.reconciler.cluster;

/** Where a Valkey node answers clients: a pod IP (or loopback address in tests) and a port. */
public record NodeAddress(String host, int port) {

  /**
   * Parses {@code ip:port[@cport][,hostname]} as printed by CLUSTER NODES; null when it has no IP.
   */
  static NodeAddress fromClusterNodes(String field) {
    String hostPort = field.split("[@,]", 2)[0];
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0) {
      return null;
    }
    int port = Integer.parseInt(hostPort.substring(colon + 1));
    return port == 0 ? null : new NodeAddress(hostPort.substring(0, colon), port);
  }

  @Override
  public String toString() {
    return host + ":" + port;
  }
}
