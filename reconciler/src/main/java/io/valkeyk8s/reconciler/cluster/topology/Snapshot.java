package io.valkeyk8s.reconciler.cluster.topology;

import io.valkeyk8s.reconciler.core.StepFailedException;
import io.valkeyk8s.reconciler.valkey.NodeClient;
import io.valkeyk8s.reconciler.valkey.NodeClients;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Every pod, and for each reachable one its node id and view, read at one moment. */
public final class Snapshot {
  private final List<ClusterPod> pods;
  private final List<PodNode> members;
  private final Map<ClusterPod, StepFailedException> unreachable;

  private Snapshot(
      List<ClusterPod> pods,
      List<PodNode> members,
      Map<ClusterPod, StepFailedException> unreachable) {
    this.pods = pods;
    this.members = members;
    this.unreachable = unreachable;
  }

  /** Reads every pod; a pod that does not answer is recorded, not thrown. */
  public static Snapshot take(String step, List<ClusterPod> pods, NodeClients clients) {
    List<PodNode> members = new ArrayList<>();
    Map<ClusterPod, StepFailedException> unreachable = new LinkedHashMap<>();
    for (ClusterPod pod : pods) {
      try {
        NodeClient client = pod.node(clients, step);
        members.add(new PodNode(pod, client, ClusterView.read(client)));
      } catch (StepFailedException e) {
        unreachable.put(pod, e);
      }
    }
    return new Snapshot(List.copyOf(pods), List.copyOf(members), unreachable);
  }

  public List<ClusterPod> pods() {
    return pods;
  }

  public List<PodNode> members() {
    return members;
  }

  public Map<ClusterPod, StepFailedException> unreachable() {
    return unreachable;
  }

  /**
   * Throws the first unreachable pod's error: the steps that change the cluster need every node.
   */
  public Snapshot requireAllReachable() {
    if (!unreachable.isEmpty()) {
      throw unreachable.values().iterator().next();
    }
    return this;
  }

  /** Nodes that already belong to a cluster (know another node or serve slots). */
  public List<PodNode> joined() {
    return members.stream().filter(m -> !m.view().isAlone()).toList();
  }

  /** Fresh nodes that know only themselves and serve nothing. */
  public List<PodNode> alone() {
    return members.stream().filter(m -> m.view().isAlone()).toList();
  }

  public Optional<PodNode> byId(String id) {
    return members.stream().filter(m -> m.id().equals(id)).findFirst();
  }

  public Optional<PodNode> byOrdinal(int ordinal) {
    return members.stream().filter(m -> m.ordinal() == ordinal).findFirst();
  }

  /** Masters that serve slots, by their own account. */
  public List<PodNode> mastersWithSlots() {
    return members.stream()
        .filter(m -> m.isMaster() && m.slotCount() > 0)
        .sorted(Comparator.comparingInt(PodNode::ordinal))
        .toList();
  }

  /** Slots some reachable master claims for itself. */
  public BitSet claimedSlots() {
    BitSet all = new BitSet(ShardLayout.SLOTS);
    members.forEach(
        m -> {
          if (m.isMaster()) {
            all.or(m.view().myself().slots());
          }
        });
    return all;
  }

  /** The joined node that knows the most nodes: the best place to look at and to meet from. */
  public Optional<PodNode> reference() {
    return joined().stream()
        .max(
            Comparator.<PodNode>comparingInt(m -> m.view().nodes().size())
                .thenComparing(m -> m.slotCount() > 0)
                .thenComparing(Comparator.comparingInt(PodNode::ordinal).reversed()));
  }
}
