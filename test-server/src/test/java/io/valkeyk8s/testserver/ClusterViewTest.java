package io.valkeyk8s.testserver;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ClusterViewTest {
  @Test
  void slotRangesAreWrittenCompactly() {
    assertThat(ClusterView.ranges(List.of(5, 0, 1, 2, 3, 7, 8, 10))).isEqualTo("0-3,5,7-8,10");
    assertThat(ClusterView.ranges(List.of())).isEmpty();
  }

  @Test
  void beforeTheFirstConnectionNoSlotHasAnOwner() {
    ClusterView unknown = ClusterView.unknown();
    assertThat(unknown.shards()).isEmpty();
    assertThat(unknown.shardOf(0)).isNull();
    assertThat(unknown.shardOfKey("probe:x:1")).isNull();
  }
}
