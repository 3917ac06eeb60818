package io.valkeyk8s.reconciler.core;

/**
 * A named step of a longer operation failed (a cluster command's "meet new nodes", "move slot 42");
 * the message names the step and the node, for a one-line error.
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
