package io.valkeyk8s.reconciler.core;

import java.util.HashSet;
import java.util.Set;
import org.slf4j.Logger;

/**
 * Logs each reason a loop waits once, not on every retry: a line is logged again only after a pass
 * that did not say it (the wait ended, or its reason changed). One loop owns it.
 */
public final class WaitLog {
  private final Logger log;
  private Set<String> previous = new HashSet<>();
  private Set<String> current = new HashSet<>();

  public WaitLog(Logger log) {
    this.log = log;
  }

  /** One {@code action=wait ...} line, logged unless the previous pass said it too. */
  public void waiting(String line) {
    if (current.add(line) && !previous.contains(line)) {
      log.warn(line);
    }
  }

  /** Called at the end of every pass. */
  public void passEnded() {
    previous = current;
    current = new HashSet<>();
  }
}
