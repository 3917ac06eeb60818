package io.valkeyk8s.testserver.probe;

import java.util.List;

/**
 * What reading the writes back found.
 *
 * @param checkedAcked acknowledged writes read back
 * @param missingAcked acknowledged writes whose key is absent or holds another value: lost writes
 * @param missingIds the first few lost ids, to look them up in the logs
 * @param unverifiedAcked acknowledged writes that could not be read back (Valkey unreachable until
 *     the verification deadline); neither lost nor confirmed
 * @param failedButStored writes reported as failed whose value is stored anyway (for example a
 *     write that timed out after the primary applied it); not an error, shown for insight
 * @param error why reading back stopped early, or {@code null}
 */
public record Verification(
    long checkedAcked,
    long missingAcked,
    List<Long> missingIds,
    long unverifiedAcked,
    long failedButStored,
    String error) {

  /** A report that did not read anything back ({@code GET /status}). */
  public static Verification notReadBack(long acked) {
    return new Verification(
        0, 0, List.of(), acked, 0, "not read back (status only; GET /verify reads back)");
  }

  public boolean complete() {
    return unverifiedAcked == 0 && error == null;
  }
}
