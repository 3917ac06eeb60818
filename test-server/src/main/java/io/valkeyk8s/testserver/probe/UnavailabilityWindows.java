package io.valkeyk8s.testserver.probe;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** Groups consecutive failed writes into {@link UnavailabilityWindow}s. */
public final class UnavailabilityWindows {
  private UnavailabilityWindows() {}

  /** The windows of writes given in the order they were sent. */
  public static List<UnavailabilityWindow> of(List<WriteAttempt> attempts) {
    List<UnavailabilityWindow> windows = new ArrayList<>();
    OpenWindow open = null;
    for (WriteAttempt attempt : attempts) {
      if (!attempt.isAcked()) {
        if (open == null) {
          open = new OpenWindow(attempt);
        }
        open.add(attempt);
      } else if (open != null) {
        windows.add(open.closeAt(attempt.endNanos()));
        open = null;
      }
    }
    if (open != null) {
      windows.add(open.stillOpen());
    }
    return List.copyOf(windows);
  }

  private static final class OpenWindow {
    private final WriteAttempt first;
    private final Map<ErrorKind, Integer> errors = new EnumMap<>(ErrorKind.class);
    private WriteAttempt last;
    private int failed;

    OpenWindow(WriteAttempt first) {
      this.first = first;
    }

    void add(WriteAttempt attempt) {
      errors.merge(attempt.error(), 1, Integer::sum);
      last = attempt;
      failed++;
    }

    UnavailabilityWindow closeAt(long endNanos) {
      return new UnavailabilityWindow(
          first.startNanos(),
          endNanos,
          first.error(),
          failed,
          Collections.unmodifiableMap(new EnumMap<>(errors)),
          false);
    }

    UnavailabilityWindow stillOpen() {
      return new UnavailabilityWindow(
          first.startNanos(),
          last.endNanos(),
          first.error(),
          failed,
          Collections.unmodifiableMap(new EnumMap<>(errors)),
          true);
    }
  }
}
