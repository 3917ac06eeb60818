package io.valkeyk8s.testserver.local;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Stands in for the Kubernetes primary Service: a fixed address whose connections go to whatever
 * upstream it currently points at. {@link #pointTo} drops the open connections, as the old
 * primary's endpoint disappearing (and the reconciler fencing its clients) would.
 */
public final class TcpForwarder implements AutoCloseable {
  private static final int CONNECT_TIMEOUT_MS = 500;

  private final ServerSocket server;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final Thread acceptor;
  private volatile InetSocketAddress upstream;

  public TcpForwarder(InetSocketAddress upstream) throws IOException {
    this.upstream = upstream;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.acceptor = Thread.ofVirtual().name("forwarder-accept").start(this::acceptLoop);
  }

  public int port() {
    return server.getLocalPort();
  }

  public String host() {
    return server.getInetAddress().getHostAddress();
  }

  public InetSocketAddress upstream() {
    return upstream;
  }

  /** Sends new connections to {@code target} and drops the ones to the previous upstream. */
  public void pointTo(InetSocketAddress target) {
    if (!target.equals(upstream)) {
      upstream = target;
      open.forEach(TcpForwarder::closeQuietly);
    }
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        Thread.ofVirtual().name("forwarder-conn").start(() -> connect(client));
      } catch (IOException closed) {
        return;
      }
    }
  }

  private void connect(Socket client) {
    Socket target = new Socket();
    open.add(client);
    open.add(target);
    try {
      target.connect(upstream, CONNECT_TIMEOUT_MS);
      Thread.ofVirtual().name("forwarder-up").start(() -> pump(client, target));
      pump(target, client);
    } catch (IOException unreachable) {
      // Like a Service whose endpoint is gone: the client sees its connection closed.
      closeQuietly(client);
      closeQuietly(target);
    }
  }

  /** Copies one direction until either side closes, then closes both. */
  private void pump(Socket from, Socket to) {
    byte[] buffer = new byte[16 * 1024];
    try (InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream()) {
      int n;
      while ((n = in.read(buffer)) >= 0) {
        out.write(buffer, 0, n);
        out.flush();
      }
    } catch (IOException e) {
      // one side went away
    } finally {
      closeQuietly(from);
      closeQuietly(to);
    }
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing anyway
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    open.forEach(TcpForwarder::closeQuietly);
    acceptor.interrupt();
  }
}
