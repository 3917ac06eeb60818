package io.valkeyk8s.reconciler.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LabelsTest {
  @Test
  void acceptsPlainAndPrefixedNames() {
    assertThat(Labels.isValidName("valkey-master")).isTrue();
    assertThat(Labels.isValidName("valkey.io/primary")).isTrue();
  }

  @Test
  void rejectsMalformedNamesAndValues() {
    assertThat(Labels.isValidName("-leading")).isFalse();
    assertThat(Labels.isValidName("Upper.Case/x")).isFalse();
    assertThat(Labels.isValidName("a".repeat(64))).isFalse();
    assertThat(Labels.isValidValue("has space")).isFalse();
    assertThat(Labels.isValidValue("")).isTrue();
    assertThat(Labels.isValidValue("true")).isTrue();
  }
}
