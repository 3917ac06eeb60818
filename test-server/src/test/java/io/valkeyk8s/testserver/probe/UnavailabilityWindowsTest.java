package io.valkeyk8s.testserver.probe;

import static io.valkeyk8s.testserver.probe.ErrorKind.CONNECTION;
import static io.valkeyk8s.testserver.probe.ErrorKind.NOREPLICAS;
import static io.valkeyk8s.testserver.probe.ErrorKind.TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class UnavailabilityWindowsTest {
  private static final long MS = 1_000_000;

  private static WriteAttempt ok(long id, long startMs, long endMs) {
    return WriteAttempt.acked(id, startMs * MS, endMs * MS);
  }

  private static WriteAttempt fail(long id, long startMs, long endMs, ErrorKind kind) {
    return WriteAttempt.failed(id, startMs * MS, endMs * MS, kind);
  }

  @Test
  void noFailuresNoWindow() {
    assertThat(UnavailabilityWindows.of(List.of(ok(1, 0, 1), ok(2, 20, 21)))).isEmpty();
    assertThat(UnavailabilityWindows.of(List.of())).isEmpty();
  }

  @Test
  void windowRunsFromFirstFailedWriteToTheNextAcknowledgement() {
    List<UnavailabilityWindow> windows =
        UnavailabilityWindows.of(
            List.of(
                ok(1, 0, 1),
                fail(2, 20, 270, TIMEOUT),
                fail(3, 290, 291, CONNECTION),
                fail(4, 310, 311, CONNECTION),
                ok(5, 330, 340),
                ok(6, 350, 351)));

    assertThat(windows)
        .singleElement()
        .satisfies(
            w -> {
              assertThat(w.startNanos()).isEqualTo(20 * MS);
              assertThat(w.endNanos()).isEqualTo(340 * MS);
              assertThat(w.durationMillis()).isEqualTo(320);
              assertThat(w.firstError()).isEqualTo(TIMEOUT);
              assertThat(w.failedWrites()).isEqualTo(3);
              assertThat(w.errors()).isEqualTo(Map.of(TIMEOUT, 1, CONNECTION, 2));
              assertThat(w.ongoing()).isFalse();
            });
  }

  @Test
  void separateRunsOfFailuresAreSeparateWindows() {
    List<UnavailabilityWindow> windows =
        UnavailabilityWindows.of(
            List.of(
                fail(1, 0, 5, CONNECTION),
                ok(2, 20, 21),
                fail(3, 40, 41, NOREPLICAS),
                fail(4, 60, 61, NOREPLICAS),
                ok(5, 80, 81)));

    assertThat(windows).extracting(UnavailabilityWindow::durationMillis).containsExactly(21L, 41L);
    assertThat(windows)
        .extracting(UnavailabilityWindow::firstError)
        .containsExactly(CONNECTION, NOREPLICAS);
    assertThat(windows).extracting(UnavailabilityWindow::failedWrites).containsExactly(1, 2);
  }

  @Test
  void failuresUntilTheEndLeaveAnOngoingWindowEndingAtTheLastFailure() {
    List<UnavailabilityWindow> windows =
        UnavailabilityWindows.of(
            List.of(ok(1, 0, 1), fail(2, 20, 25, CONNECTION), fail(3, 40, 290, TIMEOUT)));

    assertThat(windows)
        .singleElement()
        .satisfies(
            w -> {
              assertThat(w.ongoing()).isTrue();
              assertThat(w.durationMillis()).isEqualTo(270);
              assertThat(w.errors()).isEqualTo(Map.of(CONNECTION, 1, TIMEOUT, 1));
            });
  }
}
