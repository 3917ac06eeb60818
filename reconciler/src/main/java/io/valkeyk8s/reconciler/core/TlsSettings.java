package io.valkeyk8s.reconciler.core;

import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.Optional;

/**
 * TLS to Sentinels and Valkey nodes alike, in the style of the original tool's environment. Read
 * and checked at start (files included: a bad mount is one line naming the variable, not a
 * handshake error in the middle of a failover). The CA bundle and the client certificate are read
 * again for every new connection, so renewed files in a mounted Secret need no restart.
 *
 * @param enabled VALKEY_TLS
 * @param caFile VALKEY_TLS_CA_FILE: PEM bundle the servers' certificates are verified against (and
 *     their host name or IP, as announced); empty: the JVM's default trust store
 * @param certFile VALKEY_TLS_CERT_FILE: PEM client certificate (chain), with keyFile
 * @param keyFile VALKEY_TLS_KEY_FILE: its unencrypted PEM key (PKCS#8, PKCS#1 or SEC1)
 * @param insecureSkipVerify VALKEY_TLS_INSECURE_SKIP_VERIFY: accept any server certificate
 * @param clusterDomain CLUSTER_DOMAIN: the pods' stable names end in {@code .svc.<domain>}
 */
public record TlsSettings(
    boolean enabled,
    Optional<Path> caFile,
    Optional<Path> certFile,
    Optional<Path> keyFile,
    boolean insecureSkipVerify,
    String clusterDomain) {

  public static final TlsSettings OFF =
      new TlsSettings(
          false, Optional.empty(), Optional.empty(), Optional.empty(), false, "cluster.local");

  static final String TLS = "VALKEY_TLS";
  static final String CA = "VALKEY_TLS_CA_FILE";
  static final String CERT = "VALKEY_TLS_CERT_FILE";
  static final String KEY = "VALKEY_TLS_KEY_FILE";
  static final String SKIP = "VALKEY_TLS_INSECURE_SKIP_VERIFY";
  static final String DOMAIN = "CLUSTER_DOMAIN";

  public static TlsSettings fromEnv(Env env) {
    boolean enabled = env.flag(TLS, false);
    boolean skip = env.flag(SKIP, false);
    String domain = env.string(DOMAIN, "cluster.local");
    if (!domain.matches("[a-z0-9]([-a-z0-9.]*[a-z0-9])?")) {
      throw new ConfigException(DOMAIN, "'" + domain + "' is not a DNS domain");
    }
    if (!enabled) {
      for (String name : new String[] {CA, CERT, KEY}) {
        if (env.optional(name).isPresent()) {
          throw new ConfigException(name, "is set but " + TLS + " is not true");
        }
      }
      if (skip) {
        throw new ConfigException(SKIP, "is true but " + TLS + " is not true");
      }
      return new TlsSettings(
          false, Optional.empty(), Optional.empty(), Optional.empty(), false, domain);
    }
    Optional<Path> ca = env.readableFile(CA);
    Optional<Path> cert = env.readableFile(CERT);
    Optional<Path> key = env.readableFile(KEY);
    if (cert.isPresent() != key.isPresent()) {
      String set = cert.isPresent() ? CERT : KEY;
      String missing = cert.isPresent() ? KEY : CERT;
      throw new ConfigException(
          set, "is set without " + missing + ": a client certificate needs both");
    }
    if (skip && ca.isPresent()) {
      throw new ConfigException(
          SKIP,
          "is true and " + CA + " is set: verify against the CA or skip verification, not both");
    }
    ca.ifPresent(f -> requireCertificates(CA, f));
    cert.ifPresent(f -> requireCertificates(CERT, f));
    if (cert.isPresent()) {
      try {
        SslContextBuilder.forClient().keyManager(cert.get().toFile(), key.get().toFile()).build();
      } catch (IOException | RuntimeException e) {
        throw new ConfigException(
            KEY,
            "cannot load the private key in "
                + key.get()
                + " for the certificate in "
                + cert.get()
                + " (unencrypted PEM: PKCS#8, PKCS#1 or SEC1): "
                + e.getMessage());
      }
    }
    return new TlsSettings(true, ca, cert, key, skip, domain);
  }

  private static void requireCertificates(String name, Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      if (CertificateFactory.getInstance("X.509").generateCertificates(in).isEmpty()) {
        throw new CertificateException("no certificate found");
      }
    } catch (IOException | CertificateException e) {
      throw new ConfigException(name, file + " holds no PEM certificate: " + e.getMessage());
    }
  }

  @Override
  public String toString() {
    if (!enabled) {
      return "tls=off";
    }
    return "tls=on ca="
        + caFile.map(Path::toString).orElse("jvm-default")
        + " client_cert="
        + certFile.map(Path::toString).orElse("-")
        + (insecureSkipVerify ? " verify=SKIPPED" : " verify=full");
  }
}
