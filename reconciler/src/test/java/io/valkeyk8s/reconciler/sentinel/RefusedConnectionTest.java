package io.valkeyk8s.reconciler.sentinel;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** What counts as refused: real loopback sockets. */
class RefusedConnectionTest {
  @Test
  void anAddressWithAListenerIsNotRefused() throws Exception {
    try (ServerSocket listener = new ServerSocket()) {
      listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      assertThat(RefusedConnection.refused("127.0.0.1", listener.getLocalPort())).isFalse();
    }
  }

  @Test
  void anAddressWhoseListenerClosedIsRefused() throws Exception {
    int port;
    try (ServerSocket listener = new ServerSocket()) {
      listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      port = listener.getLocalPort();
    }
    assertThat(RefusedConnection.refused("127.0.0.1", port)).isTrue();
  }

  @Test
  void aListenerThatAcceptsNothingIsNotRefused() throws Exception {
    // As a frozen process: nobody calls accept(), the kernel still completes the handshake.
    try (ServerSocket listener = new ServerSocket()) {
      listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
      assertThat(RefusedConnection.refused("127.0.0.1", listener.getLocalPort())).isFalse();
      assertThat(RefusedConnection.refused("127.0.0.1", listener.getLocalPort())).isFalse();
    }
  }
}
