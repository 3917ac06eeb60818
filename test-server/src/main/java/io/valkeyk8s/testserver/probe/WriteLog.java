package io.valkeyk8s.testserver.probe;

import java.util.ArrayList;
import java.util.List;

/** Every write the probe attempted, in the order sent. Appended by the probe, read by reports. */
public final class WriteLog {
  private final List<WriteAttempt> attempts = new ArrayList<>();

  public synchronized void add(WriteAttempt attempt) {
    attempts.add(attempt);
  }

  /** A copy, so a report can be built while the probe keeps writing. */
  public synchronized List<WriteAttempt> snapshot() {
    return List.copyOf(attempts);
  }

  public synchronized int size() {
    return attempts.size();
  }
}
