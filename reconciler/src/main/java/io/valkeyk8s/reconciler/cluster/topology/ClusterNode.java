package io.valkeyk8s.reconciler.cluster.topology;

import io.valkeyk8s.reconciler.valkey.Address;
import java.util.BitSet;
import java.util.Map;
import java.util.Set;

/**
 * One line of CLUSTER NODES as seen by one node.
 *
 * @param address null when the viewer does not know it (noaddr)
 * @param hostname the announced host name (cluster-announce-hostname), null when none
 * @param masterId null for a master
 * @param migrating open slots this node migrates, slot to target node id (only on the viewer's own
 *     line)
 * @param importing open slots this node imports, slot to source node id (only on the viewer's own
 *     line)
 */
public record ClusterNode(
    String id,
    Address address,
    String hostname,
    Set<String> flags,
    String masterId,
    long configEpoch,
    boolean connected,
    BitSet slots,
    Map<Integer, String> migrating,
    Map<Integer, String> importing) {

  public boolean isMyself() {
    return flags.contains("myself");
  }

  public boolean isMaster() {
    return flags.contains("master");
  }

  public boolean isReplica() {
    return flags.contains("slave");
  }

  /** Failed, suspected, unreachable or still in handshake: not a node to rely on. */
  public boolean isUnhealthy() {
    return flags.contains("fail")
        || flags.contains("fail?")
        || flags.contains("noaddr")
        || flags.contains("handshake");
  }

  public boolean isFailed() {
    return flags.contains("fail");
  }

  public int slotCount() {
    return slots.cardinality();
  }

  /**
   * True when the node announces this pod's name as its host name: the pod name itself or its DNS
   * name ({@code <pod>.<headless service>...}).
   */
  public boolean announces(String podName) {
    return hostname != null && (hostname.equals(podName) || hostname.startsWith(podName + "."));
  }
}
