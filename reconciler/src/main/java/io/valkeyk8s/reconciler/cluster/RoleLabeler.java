package io.valkeyk8s.reconciler.cluster;

/** Writes the cluster role labels on a pod and records why. */
public interface RoleLabeler {
  String ROLE_LABEL = "valkey-role";
  String SHARD_LABEL = "valkey-shard";
  String PRIMARY = "primary";
  String REPLICA = "replica";

  /**
   * Sets both labels to the given values (null removes the label) and records an Event on the pod.
   *
   * @param reason one short sentence saying why, kept in the Event and the log
   */
  void label(ClusterPod pod, String role, String shard, String reason);
}
