package io.valkeyk8s.reconciler.cluster.topology;

import io.valkeyk8s.reconciler.valkey.Address;
import io.valkeyk8s.reconciler.valkey.NodeClient;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** The cluster as one node sees it: the parsed output of its CLUSTER NODES. */
public final class ClusterView {
  private final Map<String, ClusterNode> nodes;
  private final ClusterNode myself;

  private ClusterView(Map<String, ClusterNode> nodes, ClusterNode myself) {
    this.nodes = nodes;
    this.myself = myself;
  }

  public static ClusterView parse(String clusterNodes) {
    Map<String, ClusterNode> nodes = new LinkedHashMap<>();
    ClusterNode myself = null;
    for (String line : clusterNodes.split("\n")) {
      line = line.trim();
      if (line.isEmpty()) {
        continue;
      }
      ClusterNode node = parseLine(line);
      nodes.put(node.id(), node);
      if (node.isMyself()) {
        myself = node;
      }
    }
    if (myself == null) {
      throw new IllegalArgumentException("CLUSTER NODES has no 'myself' line");
    }
    return new ClusterView(nodes, myself);
  }

  static ClusterNode parseLine(String line) {
    String[] f = line.split(" ");
    if (f.length < 8) {
      throw new IllegalArgumentException("bad CLUSTER NODES line: " + line);
    }
    BitSet slots = new BitSet(ShardLayout.SLOTS);
    Map<Integer, String> migrating = new HashMap<>();
    Map<Integer, String> importing = new HashMap<>();
    for (int i = 8; i < f.length; i++) {
      String s = f[i];
      if (s.startsWith("[")) {
        String body = s.substring(1, s.length() - 1);
        int arrow = body.indexOf("->-");
        if (arrow > 0) {
          migrating.put(Integer.parseInt(body.substring(0, arrow)), body.substring(arrow + 3));
        } else {
          arrow = body.indexOf("-<-");
          importing.put(Integer.parseInt(body.substring(0, arrow)), body.substring(arrow + 3));
        }
      } else if (s.contains("-")) {
        String[] range = s.split("-");
        slots.set(Integer.parseInt(range[0]), Integer.parseInt(range[1]) + 1);
      } else {
        slots.set(Integer.parseInt(s));
      }
    }
    return new ClusterNode(
        f[0],
        address(f[1]),
        hostname(f[1]),
        Set.of(f[2].split(",")),
        "-".equals(f[3]) ? null : f[3],
        Long.parseLong(f[6]),
        "connected".equals(f[7]),
        slots,
        Map.copyOf(migrating),
        Map.copyOf(importing));
  }

  /** Parses {@code ip:port[@cport][,hostname]}; null when the line has no address (noaddr). */
  private static Address address(String field) {
    String hostPort = field.split("[@,]", 2)[0];
    int colon = hostPort.lastIndexOf(':');
    if (colon <= 0) {
      return null;
    }
    int port = Integer.parseInt(hostPort.substring(colon + 1));
    return port == 0 ? null : new Address(hostPort.substring(0, colon), port);
  }

  /** The host name after the comma of {@code ip:port@cport,hostname}; null when absent. */
  private static String hostname(String field) {
    int comma = field.indexOf(',');
    if (comma < 0 || comma == field.length() - 1) {
      return null;
    }
    // Later comma-separated fields are auxiliary (key=value) in some versions.
    String name = field.substring(comma + 1).split(",", 2)[0];
    return name.isEmpty() || name.contains("=") ? null : name;
  }

  /** CLUSTER NODES of this node, parsed. */
  public static ClusterView read(NodeClient node) {
    return parse(node.clusterNodes());
  }

  public ClusterNode myself() {
    return myself;
  }

  public Collection<ClusterNode> nodes() {
    return nodes.values();
  }

  public Optional<ClusterNode> node(String id) {
    return Optional.ofNullable(nodes.get(id));
  }

  public boolean knows(String id) {
    return nodes.containsKey(id);
  }

  /** A node that knows only itself and serves no slot: a fresh pod not yet part of any cluster. */
  public boolean isAlone() {
    return nodes.size() == 1 && myself.slotCount() == 0 && myself.isMaster();
  }

  /** Slots assigned to any master in this view. */
  public BitSet assignedSlots() {
    BitSet all = new BitSet(ShardLayout.SLOTS);
    for (ClusterNode n : nodes.values()) {
      all.or(n.slots());
    }
    return all;
  }

  public List<ClusterNode> replicasOf(String masterId) {
    List<ClusterNode> out = new ArrayList<>();
    for (ClusterNode n : nodes.values()) {
      if (masterId.equals(n.masterId())) {
        out.add(n);
      }
    }
    return out;
  }

  /** The node owning the slot in this view, if any. */
  public Optional<ClusterNode> ownerOf(int slot) {
    return nodes.values().stream().filter(n -> n.slots().get(slot)).findFirst();
  }
}
