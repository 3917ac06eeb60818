package io.valkeyk8s.testserver.tls;

import java.io.IOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Certificates a TLS test makes for itself with Bouncy Castle (in-process, no openssl binary, and
 * the same library the test server uses to read PKCS#1 keys): a CA, server certificates for given
 * IP addresses, a client certificate, and a second CA nobody signed with (the "wrong CA").
 *
 * <p>Server keys are EC P-256 in PKCS#8; the client key is RSA in PKCS#1 ({@code BEGIN RSA PRIVATE
 * KEY}), cert-manager's default encoding, which Netty reads only through Bouncy Castle.
 */
public final class TestCertificates {
  private final Path dir;
  private final KeyPair caKeys;
  private final X509Certificate ca;

  private TestCertificates(Path dir) throws GeneralSecurityException, IOException {
    this.dir = Files.createDirectories(dir);
    this.caKeys = ecKeys();
    this.ca =
        sign("CN=valkey-k8s test CA", caKeys, caKeys, "CN=valkey-k8s test CA", List.of(), true);
    write(dir.resolve("ca.crt"), ca);
  }

  /** A new CA in {@code dir} ({@code ca.crt}). */
  public static TestCertificates create(Path dir) throws Exception {
    return new TestCertificates(dir);
  }

  public Path caFile() {
    return dir.resolve("ca.crt");
  }

  /**
   * {@code <name>.crt} and {@code <name>.key} (EC, PKCS#8) for a server at these IP addresses and
   * DNS names, usable as a client certificate too (cluster bus, replication).
   */
  public Path[] server(String name, List<String> ipsAndNames) throws Exception {
    KeyPair keys = ecKeys();
    X509Certificate cert =
        sign("CN=" + name, keys, caKeys, "CN=valkey-k8s test CA", ipsAndNames, false);
    Path crt = write(dir.resolve(name + ".crt"), cert);
    Path key = dir.resolve(name + ".key");
    try (Writer out = Files.newBufferedWriter(key);
        JcaPEMWriter pem = new JcaPEMWriter(out)) {
      pem.writeObject(new JcaPKCS8Generator(keys.getPrivate(), null));
    }
    return new Path[] {crt, key};
  }

  /** {@code <name>.crt} and {@code <name>.key}: a client certificate with an RSA key in PKCS#1. */
  public Path[] client(String name) throws Exception {
    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(2048);
    KeyPair keys = rsa.generateKeyPair();
    X509Certificate cert =
        sign("CN=" + name, keys, caKeys, "CN=valkey-k8s test CA", List.of(), false);
    Path crt = write(dir.resolve(name + ".crt"), cert);
    Path key = dir.resolve(name + ".key");
    writeTraditional(key, keys.getPrivate());
    return new Path[] {crt, key};
  }

  /** A CA certificate that signed nothing here: verifying against it must fail. */
  public Path otherCa(String name) throws Exception {
    KeyPair keys = ecKeys();
    return write(
        dir.resolve(name + ".crt"), sign("CN=" + name, keys, keys, "CN=" + name, List.of(), true));
  }

  private static void writeTraditional(Path file, PrivateKey key) throws IOException {
    try (Writer out = Files.newBufferedWriter(file);
        JcaPEMWriter pem = new JcaPEMWriter(out)) {
      pem.writeObject(key); // RSA: PKCS#1, EC: SEC1
    }
  }

  private static Path write(Path file, X509Certificate cert) throws IOException {
    try (Writer out = Files.newBufferedWriter(file);
        JcaPEMWriter pem = new JcaPEMWriter(out)) {
      pem.writeObject(cert);
    }
    return file;
  }

  private static KeyPair ecKeys() throws GeneralSecurityException {
    KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
    ec.initialize(new ECGenParameterSpec("secp256r1"));
    return ec.generateKeyPair();
  }

  private static X509Certificate sign(
      String subject,
      KeyPair subjectKeys,
      KeyPair issuerKeys,
      String issuer,
      List<String> ipsAndNames,
      boolean isCa)
      throws GeneralSecurityException, IOException {
    Instant now = Instant.now();
    X509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            new X500Name(issuer),
            new BigInteger(64, new SecureRandom()),
            Date.from(now.minus(Duration.ofMinutes(5))),
            Date.from(now.plus(Duration.ofDays(1))),
            new X500Name(subject),
            subjectKeys.getPublic());
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
    if (isCa) {
      builder.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    } else {
      builder.addExtension(
          Extension.keyUsage,
          true,
          new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
      builder.addExtension(
          Extension.extendedKeyUsage,
          false,
          new ExtendedKeyUsage(
              new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      if (!ipsAndNames.isEmpty()) {
        GeneralName[] names =
            ipsAndNames.stream()
                .map(
                    n ->
                        new GeneralName(
                            n.matches("[0-9.]+") ? GeneralName.iPAddress : GeneralName.dNSName, n))
                .toArray(GeneralName[]::new);
        builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
      }
    }
    try {
      return new JcaX509CertificateConverter()
          .getCertificate(
              builder.build(
                  new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKeys.getPrivate())));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }
}
