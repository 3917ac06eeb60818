package io.valkeyk8s.testsupport;

import java.io.IOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
 * the library Netty reads PKCS#1 keys with): a CA, server certificates for given IP addresses and
 * DNS names (also expired ones, and re-issued in place for reload tests), a client certificate, and
 * a second CA nobody signed with (the "wrong CA").
 *
 * <p>Server keys are EC P-256 in PKCS#8; the client key is RSA in PKCS#1 ({@code BEGIN RSA PRIVATE
 * KEY}), cert-manager's default encoding, which Netty reads only through Bouncy Castle. Files are
 * replaced atomically (written aside, then moved), as the kubelet swaps a mounted Secret.
 */
public final class TestCertificates {
  private final Path dir;
  private final String caName;
  private final KeyPair caKeys;
  private final X509Certificate ca;

  private TestCertificates(Path dir, String caName) throws GeneralSecurityException, IOException {
    this.dir = Files.createDirectories(dir);
    this.caName = caName;
    this.caKeys = ecKeys();
    this.ca = sign("CN=" + caName, caKeys, caKeys, "CN=" + caName, List.of(), true, validNow());
    write(dir.resolve("ca.crt"), ca);
  }

  /** A new CA in {@code dir} ({@code ca.crt}). */
  public static TestCertificates create(Path dir) throws Exception {
    return new TestCertificates(dir, "valkey-k8s test CA");
  }

  /** A new CA with its own name in {@code dir} (a renewed CA, or one nobody trusts). */
  public static TestCertificates create(Path dir, String caName) throws Exception {
    return new TestCertificates(dir, caName);
  }

  /** The CA certificate in PEM. */
  public String caPem() throws IOException {
    return Files.readString(caFile());
  }

  public Path caFile() {
    return dir.resolve("ca.crt");
  }

  /**
   * {@code <name>.crt} and {@code <name>.key} (EC, PKCS#8) for a server at these IP addresses and
   * DNS names, usable as a client certificate too (cluster bus, replication).
   */
  public Path[] server(String name, List<String> ipsAndNames) throws Exception {
    return serverInto(
        dir.resolve(name + ".crt"), dir.resolve(name + ".key"), name, ipsAndNames, validNow());
  }

  /** Like {@link #server}, but valid only until an hour ago. */
  public Path[] expiredServer(String name, List<String> ipsAndNames) throws Exception {
    Instant now = Instant.now();
    return serverInto(
        dir.resolve(name + ".crt"),
        dir.resolve(name + ".key"),
        name,
        ipsAndNames,
        new Instant[] {now.minus(Duration.ofDays(2)), now.minus(Duration.ofHours(1))});
  }

  /**
   * A server certificate signed by this CA written to {@code crt} and {@code key} (replacing what
   * is there in one move each, so a reader sees the old or the new file, never half of one).
   */
  public Path[] serverInto(Path crt, Path key, String cn, List<String> ipsAndNames)
      throws Exception {
    return serverInto(crt, key, cn, ipsAndNames, validNow());
  }

  private Path[] serverInto(
      Path crt, Path key, String cn, List<String> ipsAndNames, Instant[] validity)
      throws Exception {
    KeyPair keys = ecKeys();
    X509Certificate cert =
        sign("CN=" + cn, keys, caKeys, "CN=" + caName, ipsAndNames, false, validity);
    writeKey(key, keys.getPrivate(), true);
    write(crt, cert);
    return new Path[] {crt, key};
  }

  /** {@code <name>.crt} and {@code <name>.key}: a client certificate with an RSA key in PKCS#1. */
  public Path[] client(String name) throws Exception {
    return clientInto(dir.resolve(name + ".crt"), dir.resolve(name + ".key"), name);
  }

  /** A client certificate (RSA key in PKCS#1) written to {@code crt} and {@code key}. */
  public Path[] clientInto(Path crt, Path key, String cn) throws Exception {
    KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
    rsa.initialize(2048);
    KeyPair keys = rsa.generateKeyPair();
    X509Certificate cert =
        sign("CN=" + cn, keys, caKeys, "CN=" + caName, List.of(), false, validNow());
    writeKey(key, keys.getPrivate(), false);
    write(crt, cert);
    return new Path[] {crt, key};
  }

  /** A CA certificate that signed nothing here: verifying against it must fail. */
  public Path otherCa(String name) throws Exception {
    KeyPair keys = ecKeys();
    return write(
        dir.resolve(name + ".crt"),
        sign("CN=" + name, keys, keys, "CN=" + name, List.of(), true, validNow()));
  }

  private static Instant[] validNow() {
    Instant now = Instant.now();
    return new Instant[] {now.minus(Duration.ofMinutes(5)), now.plus(Duration.ofDays(1))};
  }

  /** PKCS#8 when asked, else the key's traditional encoding (RSA: PKCS#1, EC: SEC1). */
  private static void writeKey(Path file, PrivateKey key, boolean pkcs8) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (Writer out = Files.newBufferedWriter(tmp);
        JcaPEMWriter pem = new JcaPEMWriter(out)) {
      pem.writeObject(pkcs8 ? new JcaPKCS8Generator(key, null) : key);
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** The first certificate of a PEM file. */
  static X509Certificate read(Path pem) throws IOException {
    try (var in = Files.newInputStream(pem)) {
      return (X509Certificate)
          java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in);
    } catch (java.security.cert.CertificateException e) {
      throw new IOException("not a certificate: " + pem, e);
    }
  }

  private static Path write(Path file, X509Certificate cert) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    try (Writer out = Files.newBufferedWriter(tmp);
        JcaPEMWriter pem = new JcaPEMWriter(out)) {
      pem.writeObject(cert);
    }
    return Files.move(
        tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
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
      boolean isCa,
      Instant[] validity)
      throws GeneralSecurityException, IOException {
    X509v3CertificateBuilder builder =
        new JcaX509v3CertificateBuilder(
            new X500Name(issuer),
            new BigInteger(64, new SecureRandom()),
            Date.from(validity[0]),
            Date.from(validity[1]),
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
