package io.valkeyk8s.testsupport;

import io.lettuce.core.RedisURI;
import io.lettuce.core.SslOptions;
import io.lettuce.core.SslVerifyMode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * TLS for a {@link LoopbackValkey} as the chart runs it (config/tls.conf): the plaintext port
 * closed ({@code port 0}), TLS on the launcher's ports, replication, Sentinel's links and the
 * cluster bus over TLS, and certificate files that Valkey reloads by itself (every second here, 15
 * s in the chart). Each process gets a server certificate for its address, its name, localhost and
 * the extra names (the pods' stable DNS names, say), signed by the current CA, issued again at
 * every start. Servers and clients trust the bundle {@link #trustFile()}: a CA rotation adds the
 * new CA to it and re-issues every certificate, {@link #dropOldCas()} then leaves the new CA alone,
 * as a renewed {@code ca.crt} in a mounted Secret would.
 */
public final class LoopbackTls implements AutoCloseable {
  /** How often the servers look for changed certificate files (tls-auto-reload-interval). */
  public static final Duration RELOAD = Duration.ofSeconds(1);

  private static final Duration SERVE_TIMEOUT = Duration.ofSeconds(30);

  private final Path dir;
  private final String authClients;
  private final List<String> extraNames;
  private final List<TestCertificates> trusted = new CopyOnWriteArrayList<>();
  private final Map<Path, List<String>> issued = new ConcurrentHashMap<>();
  private volatile TestCertificates ca;
  private int generation;

  private LoopbackTls(Path dir, String authClients, List<String> extraNames) throws Exception {
    this.dir = Files.createDirectories(dir);
    this.authClients = authClients;
    this.extraNames = List.copyOf(extraNames);
    this.ca = TestCertificates.create(dir.resolve("ca-0"), "valkey-k8s test CA 0");
    trusted.add(ca);
    writeTrust();
    ca.clientInto(clientCertificate()[0], clientCertificate()[1], "test-client");
  }

  /**
   * @param authClients {@code no}, {@code optional} or {@code yes} (tls-auth-clients); with the
   *     last two, the launcher's own connections present {@link #clientCertificate()}
   * @param extraNames DNS names (may be wildcards) every server certificate carries
   */
  public static LoopbackTls create(Path dir, String authClients, List<String> extraNames)
      throws Exception {
    return new LoopbackTls(dir, authClients, extraNames);
  }

  public String authClients() {
    return authClients;
  }

  /** The CA that signs the certificates issued now. */
  public TestCertificates ca() {
    return ca;
  }

  /** PEM bundle of every trusted CA: the servers' tls-ca-cert-file and the clients' CA file. */
  public Path trustFile() {
    return dir.resolve("trust.crt");
  }

  /** The client certificate and key (RSA, PKCS#1) signed by the current CA. */
  public Path[] clientCertificate() {
    return new Path[] {dir.resolve("client.crt"), dir.resolve("client.key")};
  }

  /** valkey.conf / sentinel.conf lines for a process, after a fresh certificate was issued. */
  List<String> settings(ValkeyProcess p) throws IOException {
    Path crt = p.dir().resolve("tls.crt");
    Path key = p.dir().resolve("tls.key");
    List<String> names = new ArrayList<>(List.of(p.host(), p.name(), "localhost", "127.0.0.1"));
    names.addAll(extraNames);
    try {
      Files.createDirectories(p.dir());
      ca.serverInto(crt, key, p.name(), names);
    } catch (IOException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException("cannot issue a certificate for " + p, e);
    }
    issued.put(p.dir(), names);
    return List.of(
        "port 0",
        "tls-port " + p.port(),
        "tls-cert-file " + crt,
        "tls-key-file " + key,
        "tls-ca-cert-file " + trustFile(),
        "tls-auth-clients " + authClients,
        "tls-replication yes",
        "tls-cluster yes",
        "tls-auto-reload-interval " + RELOAD.toSeconds());
  }

  /** Lettuce's TLS options for the launcher's clients (files read again at every connect). */
  public SslOptions sslOptions() {
    SslOptions.Builder ssl =
        SslOptions.builder().jdkSslProvider().trustManager(trustFile().toFile());
    if (!"no".equals(authClients)) {
      ssl.keyManager(clientCertificate()[0].toFile(), clientCertificate()[1].toFile(), null);
    }
    return ssl.build();
  }

  /** TLS with full verification (chain and host name) on a URI. */
  public RedisURI.Builder applyTo(RedisURI.Builder uri) {
    return uri.withSsl(true).withVerifyPeer(SslVerifyMode.FULL);
  }

  /**
   * Renews the CA: the new one is trusted next to the old, then every server certificate and the
   * client certificate are issued again by it, in place. Servers serve them within {@link #RELOAD}
   * or so.
   */
  public synchronized TestCertificates rotateCa() throws Exception {
    generation++;
    TestCertificates next =
        TestCertificates.create(
            dir.resolve("ca-" + generation), "valkey-k8s test CA " + generation);
    trusted.add(next);
    writeTrust();
    ca = next;
    for (Map.Entry<Path, List<String>> e : issued.entrySet()) {
      next.serverInto(
          e.getKey().resolve("tls.crt"),
          e.getKey().resolve("tls.key"),
          e.getKey().getFileName().toString(),
          e.getValue());
    }
    next.clientInto(clientCertificate()[0], clientCertificate()[1], "test-client");
    return next;
  }

  /**
   * Replaces the certificate a process serves (and presents) with these files, e.g. an expired one
   * or one for other names, and returns once a new connection to the running process is served it.
   * A later start or CA rotation issues a regular one again.
   */
  public void replaceCertificate(ValkeyProcess p, Path[] certAndKey) throws IOException {
    writeCertificate(p, certAndKey);
    if (!p.isAlive()) {
      return;
    }
    X509Certificate wanted = TestCertificates.read(certAndKey[0]);
    InetSocketAddress address = new InetSocketAddress(p.host(), p.port());
    long started = System.nanoTime();
    long rewritten = started;
    while (!wanted.equals(served(address))) {
      long now = System.nanoTime();
      if (now - started > SERVE_TIMEOUT.toNanos()) {
        throw new IOException(
            p + " does not serve the replaced certificate after " + SERVE_TIMEOUT);
      }
      // A reload can miss a change (seen once: a Sentinel served the old certificate for more
      // than 15 s); the files' next change makes the process look again.
      if (now - rewritten > RELOAD.multipliedBy(3).toNanos()) {
        writeCertificate(p, certAndKey);
        rewritten = now;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      }
    }
  }

  private static void writeCertificate(ValkeyProcess p, Path[] certAndKey) throws IOException {
    for (int i = 0; i < 2; i++) {
      Path target = p.dir().resolve(i == 0 ? "tls.crt" : "tls.key");
      Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
      Files.copy(certAndKey[i], tmp, StandardCopyOption.REPLACE_EXISTING);
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
  }

  /**
   * The certificate a new TLS connection to this address is served, or null. Nothing is verified:
   * the server's certificate arrives before the server asks for the client's, so a server that
   * requires one still shows it.
   */
  static X509Certificate served(InetSocketAddress address) {
    AtomicReference<X509Certificate> seen = new AtomicReference<>();
    X509TrustManager recorder =
        new X509TrustManager() {
          @Override
          public void checkClientTrusted(X509Certificate[] chain, String authType) {}

          @Override
          public void checkServerTrusted(X509Certificate[] chain, String authType) {
            seen.set(chain[0]);
          }

          @Override
          public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
          }
        };
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, new TrustManager[] {recorder}, null);
      try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket()) {
        socket.connect(address, 1000);
        socket.setSoTimeout(1000);
        socket.startHandshake();
      }
    } catch (IOException | GeneralSecurityException e) {
      // refused for want of a client certificate, or not listening yet: what was seen counts
    }
    return seen.get();
  }

  /** Trusts only the current CA from now on (the end of a rotation). */
  public synchronized void dropOldCas() throws IOException {
    trusted.removeIf(c -> c != ca);
    writeTrust();
  }

  /** Deletes the certificates (the launcher that uses this closes it). */
  @Override
  public void close() {
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException ignored) {
      // temp files only
    }
  }

  private void writeTrust() throws IOException {
    StringBuilder pem = new StringBuilder();
    for (TestCertificates c : trusted) {
      pem.append(c.caPem());
    }
    Path tmp = dir.resolve("trust.crt.tmp");
    Files.writeString(tmp, pem);
    Files.move(
        tmp, trustFile(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
