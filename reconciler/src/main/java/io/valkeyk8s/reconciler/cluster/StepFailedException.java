package io.valkeyk8s.reconciler.cluster;

/**
 * A step of a cluster command failed; the message names the step and the node, for the one-line
 * error.
 */
public final class StepFailedException extends RuntimeException {
  private final String step;
  private final String node;

  public StepFailedException(String step, String node, String problem, Throwable cause) {
    super(
        "step '" + step + "' failed" + (node == null ? "" : " on " + node) + ": " + problem, cause);
    this.step = step;
    this.node = node;
  }

  public StepFailedException(String step, String node, String problem) {
    this(step, node, problem, null);
  }

  public String step() {
    return step;
  }

  /**
   * The pod and address the step was talking to, or null when the step concerns the whole cluster.
   */
  public String node() {
    return node;
  }
}
