package io.valkeyk8s.testserver.probe;

/**
 * One write of the probe: its id, when it was sent and answered (monotonic nanoseconds since the
 * probe started), and why it failed ({@code null} when the primary acknowledged it).
 */
public record WriteAttempt(long id, long startNanos, long endNanos, ErrorKind error) {

  public static WriteAttempt acked(long id, long startNanos, long endNanos) {
    return new WriteAttempt(id, startNanos, endNanos, null);
  }

  public static WriteAttempt failed(long id, long startNanos, long endNanos, ErrorKind error) {
    return new WriteAttempt(id, startNanos, endNanos, error);
  }

  public boolean isAcked() {
    return error == null;
  }
}
