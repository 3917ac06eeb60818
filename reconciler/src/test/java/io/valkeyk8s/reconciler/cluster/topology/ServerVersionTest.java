package io.valkeyk8s.reconciler.cluster.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.BitSet;
import org.junit.jupiter.api.Test;

class ServerVersionTest {
  @Test
  void comparesNumberByNumber() {
    assertThat(ServerVersion.compare("8.0.1", "9.0.0")).isNegative();
    assertThat(ServerVersion.compare("9.1.2", "9.0.0")).isPositive();
    assertThat(ServerVersion.compare("9.0", "9.0.0")).isZero();
    assertThat(ServerVersion.compare("10.0.0", "9.10.0")).isPositive();
    assertThat(ServerVersion.compare("9.0.0-rc1", "9.0.0")).isZero();
    assertThat(ServerVersion.compare(null, "9.0.0")).isNegative();
  }

  @Test
  void slotRangesOfAMigrationJob() {
    BitSet slots = new BitSet();
    slots.set(0, 100);
    slots.set(200);
    assertThat(AtomicSlotMigration.ranges(slots))
        .containsExactly(new int[] {0, 99}, new int[] {200, 200});
    assertThat(AtomicSlotMigration.count("0-99 200-200")).isEqualTo(101);
  }
}
