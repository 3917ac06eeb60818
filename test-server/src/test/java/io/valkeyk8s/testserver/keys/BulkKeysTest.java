package io.valkeyk8s.testserver.keys;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BulkKeysTest {
  @Test
  void valuesStartWithTheirNumberAndHaveTheAskedSize() {
    assertThat(BulkKeys.value(17, 32)).hasSize(32).startsWith("17:");
    assertThat(BulkKeys.value(17, 32)).isEqualTo(BulkKeys.value(17, 32));
    assertThat(BulkKeys.value(17, 32)).isNotEqualTo(BulkKeys.value(18, 32));
    assertThat(BulkKeys.value(123456, 2)).as("at least <n>:").isEqualTo("123456:");
    assertThat(BulkKeys.value(1, 1024 * 1024)).hasSize(1024 * 1024);
  }
}
