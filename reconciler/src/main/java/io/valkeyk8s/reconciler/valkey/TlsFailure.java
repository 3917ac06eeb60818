package io.valkeyk8s.reconciler.valkey;

import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import javax.net.ssl.SSLException;

/**
 * What went wrong in a failed TLS handshake, in one line for the log: Lettuce reports only "Unable
 * to connect to host:port", the reason sits deep in the causes. The deepest cause's message is
 * used: the outer ones repeat it with class names, and not always in the same way, which would
 * defeat the logs' "once until it changes".
 */
public final class TlsFailure {
  private TlsFailure() {}

  /** The reason when a TLS handshake is among the causes of {@code e}, else empty. */
  public static Optional<String> of(Throwable e) {
    List<Throwable> chain = new ArrayList<>();
    for (Throwable t = e; t != null && !chain.contains(t); t = t.getCause()) {
      chain.add(t);
    }
    Optional<Throwable> expired = deepest(chain, TlsFailure::isExpiry);
    if (expired.isPresent()) {
      return reason("the server certificate is expired or not yet valid", expired.get());
    }
    Optional<Throwable> name =
        deepest(
            chain,
            t ->
                String.valueOf(t.getMessage()).contains("No subject alternative")
                    || String.valueOf(t.getMessage()).contains("No name matching"));
    if (name.isPresent()) {
      return reason("the server certificate does not name this host", name.get());
    }
    Optional<Throwable> untrusted =
        deepest(
            chain,
            t -> t instanceof CertPathBuilderException || t instanceof CertPathValidatorException);
    if (untrusted.isPresent()) {
      return reason("the server certificate is not signed by a trusted CA", untrusted.get());
    }
    Optional<Throwable> tls =
        deepest(chain, t -> t instanceof SSLException || t instanceof CertificateException);
    if (tls.isEmpty()) {
      return Optional.empty();
    }
    String message = String.valueOf(tls.get().getMessage());
    if (message.contains("Received fatal alert")
        && (message.contains("unknown_ca")
            || message.contains("bad_certificate")
            || message.contains("certificate_required")
            || message.contains("certificate_unknown"))) {
      return reason("the server refused this client's certificate", tls.get());
    }
    return reason("TLS handshake failed", tls.get());
  }

  /** Lettuce's message, followed by the TLS reason when there is one. */
  public static String describe(Throwable e) {
    String message = String.valueOf(e.getMessage());
    return of(e).map(reason -> message + ": " + reason).orElse(message);
  }

  private static boolean isExpiry(Throwable t) {
    if (t instanceof CertificateExpiredException || t instanceof CertificateNotYetValidException) {
      return true;
    }
    return t instanceof CertPathValidatorException v
        && (v.getReason() == CertPathValidatorException.BasicReason.EXPIRED
            || v.getReason() == CertPathValidatorException.BasicReason.NOT_YET_VALID);
  }

  private static Optional<Throwable> deepest(List<Throwable> chain, Predicate<Throwable> test) {
    Throwable found = null;
    for (Throwable t : chain) {
      if (test.test(t)) {
        found = t;
      }
    }
    return Optional.ofNullable(found);
  }

  private static Optional<String> reason(String what, Throwable t) {
    return Optional.of(what + " (" + t.getMessage() + ")");
  }
}
