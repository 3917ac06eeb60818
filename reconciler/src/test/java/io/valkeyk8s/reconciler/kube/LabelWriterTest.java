package io.valkeyk8s.reconciler.kube;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LabelWriterTest {
  @Test
  void escapesPrefixedLabelNamesAsJsonPointer() {
    assertThat(LabelWriter.escape("valkey-master")).isEqualTo("valkey-master");
    assertThat(LabelWriter.escape("valkey.io/primary")).isEqualTo("valkey.io~1primary");
    assertThat(LabelWriter.escape("a~b")).isEqualTo("a~0b");
  }
}
