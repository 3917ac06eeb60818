package io.valkeyk8s.testserver;

import io.lettuce.core.RedisURI;
import io.lettuce.core.SslOptions;
import io.lettuce.core.SslVerifyMode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;

/**
 * TLS to Valkey, from the environment in the style of the reconciler's contract: {@code
 * VALKEY_TLS}, {@code VALKEY_TLS_CA_FILE}, {@code VALKEY_TLS_CERT_FILE} + {@code
 * VALKEY_TLS_KEY_FILE} (a client certificate) and {@code VALKEY_TLS_INSECURE_SKIP_VERIFY}. Checked
 * at start, files included, so a bad mount is one line naming the variable instead of a handshake
 * error during a failover. The TLS itself is Lettuce's ({@link SslOptions}, {@link
 * RedisURI.Builder#withSsl}); PKCS#1 and SEC1 keys (cert-manager's default encoding) load through
 * Netty's Bouncy Castle support.
 *
 * @param caFile PEM CA bundle the server certificate is verified against (hostname included);
 *     {@code null}: the JVM's default trust store
 * @param certFile PEM client certificate (chain), with {@code keyFile}; {@code null}: none
 * @param keyFile PEM private key of {@code certFile}, unencrypted
 * @param insecureSkipVerify accept any server certificate (an explicit opt-in)
 */
public record TlsSettings(
    boolean enabled, Path caFile, Path certFile, Path keyFile, boolean insecureSkipVerify) {

  public static final TlsSettings OFF = new TlsSettings(false, null, null, null, false);

  private static final String TLS = "VALKEY_TLS";
  private static final String CA = "VALKEY_TLS_CA_FILE";
  private static final String CERT = "VALKEY_TLS_CERT_FILE";
  private static final String KEY = "VALKEY_TLS_KEY_FILE";
  private static final String SKIP = "VALKEY_TLS_INSECURE_SKIP_VERIFY";

  /** Reads and checks the settings; any contradiction or unusable file is one clear line. */
  public static TlsSettings fromEnv(Map<String, String> env) {
    boolean enabled = flag(env, TLS);
    boolean skip = flag(env, SKIP);
    if (!enabled) {
      for (String name : new String[] {CA, CERT, KEY}) {
        if (value(env, name) != null) {
          throw new IllegalArgumentException(
              name + " is set but " + TLS + " is not true: set " + TLS + "=true to use TLS");
        }
      }
      if (skip) {
        throw new IllegalArgumentException(
            SKIP + "=true but " + TLS + " is not true: set " + TLS + "=true to use TLS");
      }
      return OFF;
    }
    Path ca = readableFile(env, CA);
    Path cert = readableFile(env, CERT);
    Path key = readableFile(env, KEY);
    if (key != null && cert == null) {
      throw new IllegalArgumentException(
          KEY + " is set without " + CERT + ": a client certificate needs both");
    }
    if (cert != null && key == null) {
      throw new IllegalArgumentException(
          CERT + " is set without " + KEY + ": a client certificate needs both");
    }
    if (skip && ca != null) {
      throw new IllegalArgumentException(
          SKIP
              + "=true and "
              + CA
              + " contradict each other: verify against the CA or skip verification, not both");
    }
    TlsSettings settings = new TlsSettings(true, ca, cert, key, skip);
    settings.checkLoadable();
    return settings;
  }

  /** Turns TLS on in a URI, verifying the server certificate and hostname unless skipped. */
  public RedisURI.Builder applyTo(RedisURI.Builder uri) {
    if (!enabled) {
      return uri;
    }
    return uri.withSsl(true)
        .withVerifyPeer(insecureSkipVerify ? SslVerifyMode.NONE : SslVerifyMode.FULL);
  }

  /**
   * Lettuce's TLS options; {@code null} without TLS.
   *
   * @param handshakeTimeout how long a TLS handshake may take
   */
  public SslOptions sslOptions(Duration handshakeTimeout) {
    if (!enabled) {
      return null;
    }
    SslOptions.Builder ssl =
        SslOptions.builder().jdkSslProvider().handshakeTimeout(handshakeTimeout);
    if (caFile != null) {
      ssl.trustManager(caFile.toFile());
    }
    if (certFile != null) {
      ssl.keyManager(certFile.toFile(), keyFile.toFile(), null);
    }
    return ssl.build();
  }

  /** Parses every file now: the CA and the client certificate, then the key with Netty. */
  private void checkLoadable() {
    if (caFile != null) {
      requireCertificates(CA, caFile);
    }
    if (certFile != null) {
      requireCertificates(CERT, certFile);
      try {
        sslOptions(Duration.ofSeconds(10)).createSslContextBuilder();
      } catch (IOException | GeneralSecurityException | RuntimeException e) {
        throw new IllegalArgumentException(
            KEY
                + ": cannot load the private key in "
                + keyFile
                + " (unencrypted PEM: PKCS#8, PKCS#1 or SEC1): "
                + e.getMessage());
      }
    }
  }

  private static void requireCertificates(String name, Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      if (CertificateFactory.getInstance("X.509").generateCertificates(in).isEmpty()) {
        throw new CertificateException("no certificate found");
      }
    } catch (IOException | CertificateException e) {
      throw new IllegalArgumentException(
          name + ": " + file + " holds no PEM certificate: " + e.getMessage());
    }
  }

  private static Path readableFile(Map<String, String> env, String name) {
    String text = value(env, name);
    if (text == null) {
      return null;
    }
    Path file = Path.of(text);
    if (!Files.exists(file)) {
      throw new IllegalArgumentException(name + ": cannot read " + file + " (no such file)");
    }
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(name + ": cannot read " + file + " (not a file)");
    }
    if (!Files.isReadable(file)) {
      throw new IllegalArgumentException(name + ": cannot read " + file + " (permission denied)");
    }
    return file;
  }

  private static boolean flag(Map<String, String> env, String name) {
    String text = value(env, name);
    if (text == null) {
      return false;
    }
    return switch (text.toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new IllegalArgumentException(name + " must be true or false, got: " + text);
    };
  }

  private static String value(Map<String, String> env, String name) {
    String value = env.get(name);
    return value == null || value.isBlank() ? null : value.strip();
  }
}
