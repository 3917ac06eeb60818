package io.valkeyk8s.reconciler.valkey;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCredentials;
import io.lettuce.core.RedisCredentialsProvider;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.SslVerifyMode;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.protocol.ProtocolVersion;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.lettuce.core.resource.SocketAddressResolver;
import io.valkeyk8s.reconciler.core.TlsSettings;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The one place Valkey and Sentinel connections are configured: timeouts, reconnects, RESP2 (plain
 * AUTH, flat Sentinel replies), log-in (the password asked for at every connect), TLS (Lettuce's
 * own: the CA bundle and client certificate files are read again for every new connection, so a
 * renewed CA needs no restart), threads. Every connection of the reconciler comes from a client and
 * a URI made here.
 */
public final class LettuceClients {
  /** A connect is never allowed longer than this, whatever the command timeout. */
  private static final Duration MAX_CONNECT = Duration.ofSeconds(3);

  static {
    // Lettuce records its connection events with JFR when jdk.jfr is present, which loads and
    // initialises JFR (≈ 120 classes and its type metadata on the heap) in a process that never
    // records. An explicit -Dio.lettuce.core.jfr=true still wins.
    if (System.getProperty("io.lettuce.core.jfr") == null) {
      System.setProperty("io.lettuce.core.jfr", "false");
    }
  }

  private LettuceClients() {}

  /**
   * Threads for the connections: one event loop carries the dozen sockets of a long-running mode; a
   * one-shot command that moves slots from several workers at once asks for more.
   */
  public static ClientResources resources(int ioThreads) {
    return resources(ioThreads, PodNames.NONE);
  }

  /** The same, with pod names resolved to the pod cache's IPs (TLS, see {@link PodNames}). */
  public static ClientResources resources(int ioThreads, PodNames names) {
    return ClientResources.builder()
        .socketAddressResolver(SocketAddressResolver.create(new PodNameResolver(names)))
        .ioThreadPoolSize(ioThreads)
        .computationThreadPoolSize(1)
        .reconnectDelay(
            Delay.exponential(
                Duration.ofMillis(100), Duration.ofSeconds(2), 2, TimeUnit.MILLISECONDS))
        .build();
  }

  /**
   * A client whose commands fail after the timeout and are rejected at once while disconnected.
   *
   * @param autoReconnect reconnect in the background (a node drops its clients when it turns
   *     replica); without, a dead node fails fast and the caller opens a new connection
   */
  public static RedisClient client(
      ClientResources resources, Duration timeout, boolean autoReconnect, TlsSettings tls) {
    RedisClient client = RedisClient.create(resources);
    ClientOptions.Builder options =
        ClientOptions.builder()
            .autoReconnect(autoReconnect)
            .protocolVersion(ProtocolVersion.RESP2)
            .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
            .timeoutOptions(TimeoutOptions.enabled(timeout))
            .socketOptions(SocketOptions.builder().connectTimeout(connectTimeout(timeout)).build());
    if (tls.enabled()) {
      options.sslOptions(sslOptions(tls, connectTimeout(timeout)));
    }
    client.setOptions(options.build());
    return client;
  }

  private static Duration connectTimeout(Duration timeout) {
    return timeout.compareTo(MAX_CONNECT) < 0 ? timeout : MAX_CONNECT;
  }

  /**
   * The JDK's TLS with the configured CA bundle and client certificate (files, read per connect).
   */
  static SslOptions sslOptions(TlsSettings tls, Duration handshakeTimeout) {
    SslOptions.Builder ssl =
        SslOptions.builder().jdkSslProvider().handshakeTimeout(handshakeTimeout);
    tls.caFile().ifPresent(ca -> ssl.trustManager(ca.toFile()));
    if (tls.certFile().isPresent()) {
      ssl.keyManager(tls.certFile().get().toFile(), tls.keyFile().orElseThrow().toFile(), null);
    }
    return ssl.build();
  }

  public static RedisURI uri(
      Address address, Credentials credentials, Duration timeout, TlsSettings tls) {
    RedisURI.Builder b =
        RedisURI.builder().withHost(address.host()).withPort(address.port()).withTimeout(timeout);
    if (tls.enabled()) {
      // FULL: the chain and the host name (or IP) the connection was made to.
      b.withSsl(true)
          .withVerifyPeer(tls.insecureSkipVerify() ? SslVerifyMode.NONE : SslVerifyMode.FULL);
    }
    if (credentials.authenticates()) {
      String user = credentials.username().orElse(null);
      b.withAuthentication(
          RedisCredentialsProvider.from(
              () ->
                  RedisCredentials.just(
                      user,
                      credentials.password().current().map(String::toCharArray).orElse(null))));
    }
    return b.build();
  }
}
