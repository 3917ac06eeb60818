package io.valkeyk8s.testserver.tls;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;

/**
 * valkey.conf lines for TLS, added to a {@code LoopbackValkey} server's settings. The plaintext
 * port stays open for the launcher's admin connection; clients under test use {@code tls-port},
 * which speaks only TLS. (The reconciler's tests use test-support's {@code LoopbackTls}, which
 * closes the plaintext port.)
 */
public final class TlsServers {
  private TlsServers() {}

  /**
   * @param authClients {@code no}, {@code optional} or {@code yes} ({@code tls-auth-clients})
   */
  public static List<String> settings(
      int tlsPort, Path[] serverCertAndKey, Path caFile, String authClients) {
    return List.of(
        "tls-port " + tlsPort,
        "tls-cert-file " + serverCertAndKey[0],
        "tls-key-file " + serverCertAndKey[1],
        "tls-ca-cert-file " + caFile,
        "tls-auth-clients " + authClients);
  }

  /** The TLS port next to the launcher's port on {@code host}, checked to be free. */
  public static int tlsPortOn(String host, int launcherPort) throws IOException {
    int port = launcherPort + 1;
    try (ServerSocket probe = new ServerSocket()) {
      probe.bind(new InetSocketAddress(InetAddress.getByName(host), port));
    }
    return port;
  }
}
