package io.valkeyk8s.reconciler.sentinel;

import static org.assertj.core.api.Assertions.assertThat;

import io.valkeyk8s.reconciler.valkey.Address;
import org.junit.jupiter.api.Test;

class SwitchMessageTest {
  @Test
  void parsesIpsAndHostnames() {
    assertThat(
            SwitchMessage.parse(
                "myprimary 10.0.0.1 6379 valkey-1.valkey-headless.ns.svc.cluster.local 6379"))
        .contains(
            new SwitchMessage(
                "myprimary",
                new Address("10.0.0.1", 6379),
                new Address("valkey-1.valkey-headless.ns.svc.cluster.local", 6379)));
  }

  @Test
  void ignoresMalformedPayloads() {
    assertThat(SwitchMessage.parse("myprimary 10.0.0.1 6379")).isEmpty();
    assertThat(SwitchMessage.parse("myprimary a b c d")).isEmpty();
  }

  @Test
  void theClockKeepsOnlyTheFirstNoticeOfASwitch() {
    SwitchClock clock = new SwitchClock();
    Address a = new Address("10.0.0.2", 6379);
    assertThat(clock.record(a, 100)).isTrue();
    assertThat(clock.record(a, 200)).isFalse();
    assertThat(clock.settle(a)).contains(100L);
    assertThat(clock.record(a, 300)).as("a late copy of the same switch").isFalse();
    assertThat(clock.settle(a)).isEmpty();
    Address b = new Address("10.0.0.3", 6379);
    assertThat(clock.record(b, 400)).isTrue();
    assertThat(clock.settle(b)).contains(400L);
  }
}
