package io.valkeyk8s.testserver.probe;

/**
 * Key and value of each probe write; the value is the id, so a read-back also checks that the key
 * holds what this run wrote. Standalone, the run id sits in a hash tag ({@code probe:{<run-id>}:n})
 * as it always did; in cluster mode keys must spread over every shard, so there is no hash tag
 * ({@code probe:<run-id>:n}) and consecutive writes land in different slots.
 *
 * @param hashTag whether the run id is a hash tag (one slot for the whole run)
 */
public record ProbeKeys(String runId, boolean hashTag) {

  /** Keys of one slot, as in standalone mode. */
  public ProbeKeys(String runId) {
    this(runId, true);
  }

  /** Keys spread over every slot, for cluster mode. */
  public static ProbeKeys spread(String runId) {
    return new ProbeKeys(runId, false);
  }

  public String key(long id) {
    return hashTag ? "probe:{" + runId + "}:" + id : "probe:" + runId + ":" + id;
  }

  public String value(long id) {
    return Long.toString(id);
  }
}
