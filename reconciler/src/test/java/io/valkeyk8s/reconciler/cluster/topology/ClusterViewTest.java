package io.valkeyk8s.reconciler.cluster.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.valkeyk8s.reconciler.kube.PodIndex;
import io.valkeyk8s.reconciler.valkey.Address;
import org.junit.jupiter.api.Test;

class ClusterViewTest {
  private static final String NODES =
      String.join(
          "\n",
          "aaa 10.0.0.1:6379@16379,valkey-0 myself,master - 0 0 1 connected 0-5460 [5461->-bbb]",
          "bbb 10.0.0.2:6379@16379 master - 0 1700000000000 2 connected 5461-10922 [7000-<-aaa]",
          "ccc 10.0.0.3:6379@16379 slave aaa 0 1700000000000 1 connected",
          "ddd :0@0 master,fail,noaddr - 1 1700000000000 3 disconnected",
          "eee 10.0.0.4:6379@16379,valkey-3.valkey-headless.ns.svc.cluster.local slave,fail aaa 1"
              + " 1700000000000 1 disconnected",
          "");

  @Test
  void parsesSlotsRolesAddressesAndOpenSlots() {
    ClusterView view = ClusterView.parse(NODES);
    ClusterNode me = view.myself();
    assertThat(me.id()).isEqualTo("aaa");
    assertThat(me.address()).isEqualTo(new Address("10.0.0.1", 6379));
    assertThat(me.slotCount()).isEqualTo(5461);
    assertThat(me.migrating()).containsEntry(5461, "bbb");
    assertThat(view.node("bbb").orElseThrow().importing()).containsEntry(7000, "aaa");
    assertThat(view.node("ccc").orElseThrow().masterId()).isEqualTo("aaa");
    assertThat(view.node("ccc").orElseThrow().isReplica()).isTrue();
    ClusterNode gone = view.node("ddd").orElseThrow();
    assertThat(gone.address()).isNull();
    assertThat(gone.isFailed()).isTrue();
    assertThat(gone.isUnhealthy()).isTrue();
    assertThat(gone.connected()).isFalse();
    assertThat(view.assignedSlots().cardinality()).isEqualTo(10923);
    assertThat(view.node("ddd").orElseThrow().hostname()).isNull();
    assertThat(view.ownerOf(6000).orElseThrow().id()).isEqualTo("bbb");
    assertThat(view.ownerOf(12000)).isEmpty();
    assertThat(view.replicasOf("aaa")).extracting(ClusterNode::id).containsExactly("ccc", "eee");
    assertThat(view.isAlone()).isFalse();
  }

  @Test
  void hostNamesTellWhichPodANodeRunsIn() {
    ClusterView view = ClusterView.parse(NODES);
    assertThat(view.myself().hostname()).isEqualTo("valkey-0");
    assertThat(view.node("bbb").orElseThrow().hostname()).isNull();
    assertThat(view.node("eee").orElseThrow().announces("valkey-3")).isTrue();
    assertThat(view.node("eee").orElseThrow().announces("valkey-30")).isFalse();
  }

  @Test
  void aFreshNodeIsAlone() {
    ClusterView view =
        ClusterView.parse("eee 10.0.0.9:6379@16379 myself,master - 0 0 0 connected\n");
    assertThat(view.isAlone()).isTrue();
  }

  @Test
  void podOrdinalComesFromTheNameSuffix() {
    assertThat(PodIndex.ordinalOf("valkey-12")).isEqualTo(12);
    assertThat(PodIndex.ordinalOf("valkey-reconciler-5d9f")).isEqualTo(-1);
    assertThat(PodIndex.ordinalOf("valkey")).isEqualTo(-1);
  }
}
