package io.valkeyk8s.reconciler.valkey;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisConnectionException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

/** The reason of a failed handshake, found under Lettuce's "Unable to connect". */
class TlsFailureTest {
  private static RedisConnectionException lettuce(Throwable cause) {
    SSLHandshakeException handshake = new SSLHandshakeException("handshake");
    handshake.initCause(cause);
    return new RedisConnectionException("Unable to connect to 10.0.0.1:26379", handshake);
  }

  @Test
  void namesAnUntrustedAnExpiredAndAMismatchedCertificate() {
    assertThat(TlsFailure.describe(lettuce(new CertPathValidatorException("no path"))))
        .isEqualTo(
            "Unable to connect to 10.0.0.1:26379: the server certificate is not signed by a trusted CA (no path)");
    assertThat(TlsFailure.of(lettuce(new CertificateExpiredException("NotAfter: x"))))
        .hasValueSatisfying(r -> assertThat(r).startsWith("the server certificate is expired"));
    assertThat(
            TlsFailure.of(
                lettuce(new CertificateException("No subject alternative names matching IP"))))
        .hasValueSatisfying(r -> assertThat(r).startsWith("the server certificate does not name"));
    assertThat(TlsFailure.of(lettuce(new RuntimeException("other"))))
        .hasValue("TLS handshake failed (handshake)");
  }

  @Test
  void anExpiryReportedAsAFailedValidityCheckIsNamedAsSuch() {
    // What the JDK's PKIX validator throws for an expired server certificate.
    CertPathValidatorException validity =
        new CertPathValidatorException(
            "validity check failed",
            new CertificateExpiredException("NotAfter: then"),
            null,
            -1,
            CertPathValidatorException.BasicReason.EXPIRED);
    assertThat(TlsFailure.of(lettuce(validity)))
        .hasValue("the server certificate is expired or not yet valid (NotAfter: then)");
  }

  @Test
  void theSameFailureWrappedDifferentlyGivesTheSameLine() {
    CertificateException mismatch =
        new CertificateException("No subject alternative names matching IP address 10.0.0.1");
    SSLHandshakeException inner = new SSLHandshakeException("(certificate_unknown) " + mismatch);
    inner.initCause(mismatch);
    RedisConnectionException twice =
        new RedisConnectionException(
            "Unable to connect", new io.netty.handler.codec.DecoderException(inner));
    assertThat(TlsFailure.of(twice)).isEqualTo(TlsFailure.of(lettuce(mismatch)));
  }

  @Test
  void aServerThatRefusesTheClientCertificateIsNamed() {
    SSLHandshakeException alert = new SSLHandshakeException("Received fatal alert: unknown_ca");
    assertThat(
            TlsFailure.of(
                new RedisConnectionException("Unable to connect to 10.0.0.1:26379", alert)))
        .hasValue(
            "the server refused this client's certificate (Received fatal alert: unknown_ca)");
  }

  @Test
  void leavesOtherFailuresAlone() {
    RedisConnectionException refused =
        new RedisConnectionException(
            "Unable to connect to 10.0.0.1:26379", new java.net.ConnectException("refused"));
    assertThat(TlsFailure.of(refused)).isEmpty();
    assertThat(TlsFailure.describe(refused)).isEqualTo("Unable to connect to 10.0.0.1:26379");
  }
}
