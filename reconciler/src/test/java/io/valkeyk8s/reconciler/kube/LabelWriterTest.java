package io.valkeyk8s.reconciler.kube;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LabelWriterTest {
  private static final String UID =
      "{\"op\":\"test\",\"path\":\"/metadata/uid\",\"value\":\"u-1\"}";

  private static Pod pod(Map<String, String> labels) {
    return new PodBuilder()
        .withNewMetadata()
        .withName("valkey-0")
        .withUid("u-1")
        .withLabels(labels)
        .endMetadata()
        .build();
  }

  @Test
  void escapesPrefixedLabelNamesAsJsonPointer() {
    assertThat(LabelWriter.escape("valkey-master")).isEqualTo("valkey-master");
    assertThat(LabelWriter.escape("valkey.io/primary")).isEqualTo("valkey.io~1primary");
    assertThat(LabelWriter.escape("a~b")).isEqualTo("a~0b");
  }

  @Test
  void addingTestsTheUid() {
    assertThat(LabelWriter.patch(pod(Map.of("app", "v")), Map.of("valkey.io/primary", "true")))
        .contains(
            "["
                + UID
                + ",{\"op\":\"add\",\"path\":\"/metadata/labels/valkey.io~1primary\",\"value\":\"true\"}]");
  }

  @Test
  void changingOrRemovingTestsTheValueAsSeen() {
    Map<String, String> wanted = new HashMap<>();
    wanted.put("valkey-role", "replica");
    wanted.put("valkey-shard", null);
    assertThat(
            LabelWriter.patch(
                pod(Map.of("valkey-role", "primary", "valkey-shard", "1")),
                Map.of("valkey-role", "replica")))
        .contains(
            "["
                + UID
                + ",{\"op\":\"test\",\"path\":\"/metadata/labels/valkey-role\",\"value\":\"primary\"}"
                + ",{\"op\":\"replace\",\"path\":\"/metadata/labels/valkey-role\",\"value\":\"replica\"}]");
    assertThat(
            LabelWriter.patch(
                pod(Map.of("valkey-master", "true")),
                Collections.singletonMap("valkey-master", null)))
        .contains(
            "["
                + UID
                + ",{\"op\":\"test\",\"path\":\"/metadata/labels/valkey-master\",\"value\":\"true\"}"
                + ",{\"op\":\"remove\",\"path\":\"/metadata/labels/valkey-master\"}]");
    assertThat(LabelWriter.patch(pod(Map.of("valkey-role", "replica")), wanted))
        .as("already as asked")
        .isEmpty();
  }

  @Test
  void aPodWithoutLabelsGetsTheWholeObject() {
    assertThat(LabelWriter.patch(pod(Map.of()), Map.of("valkey-master", "true")))
        .contains(
            "["
                + UID
                + ",{\"op\":\"add\",\"path\":\"/metadata/labels\",\"value\":{\"valkey-master\":\"true\"}}]");
  }
}
