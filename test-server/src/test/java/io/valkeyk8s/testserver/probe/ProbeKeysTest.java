package io.valkeyk8s.testserver.probe;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.cluster.SlotHash;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class ProbeKeysTest {
  private static long slots(ProbeKeys keys) {
    return LongStream.rangeClosed(1, 1000)
        .mapToObj(keys::key)
        .mapToInt(SlotHash::getSlot)
        .distinct()
        .count();
  }

  @Test
  void standaloneKeysKeepTheirHashTagAndOneSlot() {
    ProbeKeys keys = new ProbeKeys("3f2a9c1e");
    assertThat(keys.key(7)).isEqualTo("probe:{3f2a9c1e}:7");
    assertThat(slots(keys)).isEqualTo(1);
  }

  @Test
  void clusterKeysSpreadOverManySlots() {
    ProbeKeys keys = ProbeKeys.spread("3f2a9c1e");
    assertThat(keys.key(7)).isEqualTo("probe:3f2a9c1e:7");
    assertThat(keys.value(7)).isEqualTo("7");
    assertThat(slots(keys)).as("1000 consecutive keys").isGreaterThan(900);
  }
}
