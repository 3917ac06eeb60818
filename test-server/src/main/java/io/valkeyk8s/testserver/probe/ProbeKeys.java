package io.valkeyk8s.testserver.probe;

/**
 * Key and value of each probe write. The run id in a hash tag keeps all keys of a run in one slot,
 * so they can be read back with {@code MGET}; the value is the id, so a read-back also checks that
 * the key holds what this run wrote.
 */
public record ProbeKeys(String runId) {

  public String key(long id) {
    return "probe:{" + runId + "}:" + id;
  }

  public String value(long id) {
    return Long.toString(id);
  }
}
