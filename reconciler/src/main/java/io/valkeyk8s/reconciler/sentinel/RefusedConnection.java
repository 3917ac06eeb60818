package io.valkeyk8s.reconciler.sentinel;

import io.fabric8.kubernetes.api.model.Pod;
import io.lettuce.core.event.EventBus;
import io.lettuce.core.event.connection.DisconnectedEvent;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import reactor.core.Disposable;

/**
 * The second kind of crash evidence, milliseconds after the crash instead of the kubelet's second
 * or two: a connection of this reconciler to the primary's pod closed by the other side (its ROLE
 * connection; Lettuce reports every disconnect on its event bus), and a new TCP connection to the
 * pod's IP and port refused now. A refused connection means no socket listens on that port in the
 * pod's network namespace any more: a frozen (SIGSTOPped) process still completes handshakes (the
 * kernel does), and a partition or a dropping firewall makes a connect time out, not refuse. Each
 * hang-up counts once, and only for {@link #WINDOW}.
 *
 * <p>A firewall that rejects new connections (some NetworkPolicy implementations answer with a TCP
 * reset or ICMP port-unreachable, which Linux reports as refused) could fake this for the
 * reconciler alone, so {@link FastFailover} acts on it only when the Sentinels on the other pods
 * also report their links to the primary disconnected: a dead process closes every socket, a
 * firewall leaves established connections alone.
 */
final class RefusedConnection implements AutoCloseable {
  /** How long after a hang-up a refused connect counts as evidence of it. */
  static final Duration WINDOW = Duration.ofSeconds(2);

  /** A refused connect comes back in microseconds; anything slower is no refusal. */
  private static final int CONNECT_TIMEOUT_MS = 250;

  /**
   * A hang-up of the primary's pod, followed by a refused connect to its address; {@code
   * firstCheck} for the first refusal found for this hang-up.
   */
  record Refusal(String ip, int port, long msSinceHangup, boolean firstCheck) {}

  private record Hangup(long atNanos, boolean checked) {}

  private final Map<InetSocketAddress, Hangup> hangups = new ConcurrentHashMap<>();
  private final Disposable subscription;

  /**
   * @param wake runs a pass at once after a hang-up (the crash happened between passes)
   */
  RefusedConnection(EventBus events, Runnable wake) {
    this.subscription =
        events
            .get()
            .filter(DisconnectedEvent.class::isInstance)
            .map(e -> ((DisconnectedEvent) e).remoteAddress())
            .filter(InetSocketAddress.class::isInstance)
            .map(InetSocketAddress.class::cast)
            .subscribe(
                remote -> {
                  long now = System.nanoTime();
                  hangups.values().removeIf(h -> now - h.atNanos() > WINDOW.toNanos());
                  hangups.put(
                      new InetSocketAddress(remote.getAddress(), remote.getPort()),
                      new Hangup(now, false));
                  wake.run();
                });
  }

  /**
   * The refusal proving this pod's Valkey process gone, if a connection to its IP and this port
   * hung up within {@link #WINDOW} and a connect to it is refused now. The hang-up stays for later
   * checks until {@link #consume} or the end of the window (the Sentinels' view may lag by a
   * moment).
   */
  Optional<Refusal> newRefusal(Pod pod, int port) {
    Optional<InetSocketAddress> address = address(pod, port);
    Hangup hangup = address.map(hangups::get).orElse(null);
    if (hangup == null) {
      return Optional.empty();
    }
    long since = System.nanoTime() - hangup.atNanos();
    if (since > WINDOW.toNanos()) {
      hangups.remove(address.get(), hangup);
      return Optional.empty();
    }
    String ip = address.get().getAddress().getHostAddress();
    if (!refused(ip, port)) {
      hangups.remove(address.get(), hangup); // something listens: alive, or already restarted
      return Optional.empty();
    }
    hangups.replace(address.get(), hangup, new Hangup(hangup.atNanos(), true));
    return Optional.of(
        new Refusal(ip, port, Duration.ofNanos(since).toMillis(), !hangup.checked()));
  }

  /** Forgets this pod's hang-up: acted on, or never to be acted on. */
  void consume(Pod pod, int port) {
    address(pod, port).ifPresent(hangups::remove);
  }

  /** True when a TCP connect to the address is refused (a reset, not a timeout or no route). */
  static boolean refused(String ip, int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(ip, port), CONNECT_TIMEOUT_MS);
      return false;
    } catch (ConnectException e) {
      // The JDK reports a kernel timeout with this type too; only ECONNREFUSED counts.
      return e.getMessage() != null && e.getMessage().contains("refused");
    } catch (IOException e) {
      return false;
    }
  }

  /** The pod's IP as the event bus reports remote addresses (an IP literal: no DNS lookup). */
  private static Optional<InetSocketAddress> address(Pod pod, int port) {
    String ip = pod.getStatus() == null ? null : pod.getStatus().getPodIP();
    if (ip == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(new InetSocketAddress(InetAddress.getByName(ip), port));
    } catch (UnknownHostException notAnIp) {
      return Optional.empty();
    }
  }

  @Override
  public void close() {
    subscription.dispose();
  }
}
