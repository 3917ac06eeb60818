package io.valkeyk8s.testserver.probe;

import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import java.io.IOException;
import java.util.Locale;
import javax.net.ssl.SSLException;

/**
 * Why a write was not acknowledged. The kinds tell apart the phases of a failover: the primary is
 * gone ({@link #CONNECTION}, {@link #TIMEOUT}), the Service still points at a demoted primary
 * ({@link #READONLY}), or the primary refuses writes without a healthy replica ({@link
 * #NOREPLICAS}). In cluster mode a shard without a primary answers {@link #CLUSTERDOWN}, a
 * multi-key command in a slot being migrated {@link #TRYAGAIN}, and {@link #MOVED} or {@link #ASK}
 * only surface when Lettuce ran out of redirects (it follows them itself). {@link #TLS}: the
 * handshake failed (an untrusted certificate, a hostname mismatch, a plaintext port).
 */
public enum ErrorKind {
  TIMEOUT,
  CONNECTION,
  TLS,
  READONLY,
  NOREPLICAS,
  LOADING,
  MASTERDOWN,
  AUTH,
  CLUSTERDOWN,
  TRYAGAIN,
  MOVED,
  ASK,
  OTHER;

  /** The name used in reports and JSON. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Classifies what a Lettuce call threw. A server reply anywhere in the cause chain wins (a {@code
   * WRONGPASS} while connecting is an auth problem, not a network one), then a TLS failure (Lettuce
   * wraps a failed handshake in a connection error); otherwise the first exception of a known type
   * decides.
   */
  public static ErrorKind classify(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof RedisCommandExecutionException
          && t.getMessage() != null
          && fromServerError(t.getMessage()) != OTHER) {
        return fromServerError(t.getMessage());
      }
    }
    for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SSLException) {
        return TLS;
      }
    }
    for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
      ErrorKind kind = classifyOne(t);
      if (kind != null) {
        return kind;
      }
    }
    return OTHER;
  }

  private static ErrorKind classifyOne(Throwable t) {
    if (t instanceof RedisCommandTimeoutException) {
      return TIMEOUT;
    }
    String message = t.getMessage() == null ? "" : t.getMessage();
    if (t instanceof RedisCommandExecutionException) {
      return fromServerError(message);
    }
    if (t instanceof RedisConnectionException || t instanceof IOException) {
      return CONNECTION;
    }
    // Lettuce reports a closed or rejected connection as a plain RedisException.
    String lower = message.toLowerCase(Locale.ROOT);
    if (lower.contains("connection closed")
        || lower.contains("connection is closed")
        || lower.contains("not connected")
        || lower.contains("connection reset")
        || lower.contains("connection refused")) {
      return CONNECTION;
    }
    if (lower.contains("timed out")) {
      return TIMEOUT;
    }
    return null;
  }

  /** Maps the error code a server reply starts with (for example {@code READONLY ...}). */
  static ErrorKind fromServerError(String message) {
    String code = message.strip().split("\\s+", 2)[0].toUpperCase(Locale.ROOT);
    return switch (code) {
      case "READONLY" -> READONLY;
      case "NOREPLICAS" -> NOREPLICAS;
      case "LOADING" -> LOADING;
      case "MASTERDOWN" -> MASTERDOWN;
      case "NOAUTH", "WRONGPASS", "NOPERM" -> AUTH;
      case "CLUSTERDOWN" -> CLUSTERDOWN;
      case "TRYAGAIN" -> TRYAGAIN;
      case "MOVED" -> MOVED;
      case "ASK" -> ASK;
      default -> OTHER;
    };
  }
}
