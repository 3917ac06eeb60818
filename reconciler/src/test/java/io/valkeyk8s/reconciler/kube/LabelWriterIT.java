package io.valkeyk8s.reconciler.kube;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.valkeyk8s.reconciler.testing.TestPods;
import io.valkeyk8s.testsupport.KubeApiServer;
import io.valkeyk8s.testsupport.KubeApiServerExtension;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The label writer against a real kube-apiserver: a decision made again from a copy the cache has
 * not yet replaced is refused, so one label move is written (and counted) once.
 */
@ExtendWith(KubeApiServerExtension.class)
class LabelWriterIT {
  private static final String LABEL = "valkey-primary";

  private final KubeApiServer api;
  private KubernetesClient client;
  private TestPods pods;
  private LabelWriter writer;

  LabelWriterIT(KubeApiServer api) {
    this.api = api;
  }

  @BeforeEach
  void start() {
    client = api.newClient();
    pods = TestPods.inNewNamespace(client, "labels");
    writer = new LabelWriter(client, pods.namespace(), "it", Set.of(LABEL));
  }

  @AfterEach
  void stop() {
    writer.close();
    client.close();
  }

  @Test
  void addingFromACopyAlreadyPatchedIsRefusedUntilTheCopyIsNewer() {
    Pod seen = pods.create("valkey-0", "192.0.2.10");

    assertThat(writer.write(seen, Map.of(LABEL, "true"), "PrimaryLabelAdded", "it")).isTrue();
    assertThat(writer.write(seen, Map.of(LABEL, "true"), "PrimaryLabelAdded", "it"))
        .as("the same stale copy, as a lagging informer hands it out again")
        .isFalse();

    Pod fresh = pods.get("valkey-0");
    assertThat(fresh.getMetadata().getLabels()).containsEntry(LABEL, "true");
    assertThat(writer.write(fresh, Map.of(LABEL, "true"), "PrimaryLabelAdded", "it"))
        .as("already as asked")
        .isTrue();
    Map<String, String> removed = new HashMap<>();
    removed.put(LABEL, null);
    assertThat(writer.write(fresh, removed, "PrimaryLabelRemoved", "it")).isTrue();
    assertThat(pods.get("valkey-0").getMetadata().getLabels()).doesNotContainKey(LABEL);
  }

  @Test
  void anotherWritersChangeMakesANewCopyThatIsWrittenFrom() {
    Pod seen = pods.create("valkey-0", "192.0.2.10");
    assertThat(writer.write(seen, Map.of(LABEL, "true"), "PrimaryLabelAdded", "it")).isTrue();

    // Someone removes the label: the copy from that change is a new version, written from again.
    client
        .pods()
        .inNamespace(pods.namespace())
        .withName("valkey-0")
        .edit(
            p -> {
              p.getMetadata().getLabels().remove(LABEL);
              return p;
            });
    Pod after = pods.get("valkey-0");
    assertThat(after.getMetadata().getLabels()).doesNotContainKey(LABEL);
    assertThat(writer.write(after, Map.of(LABEL, "true"), "PrimaryLabelAdded", "it")).isTrue();
    assertThat(pods.get("valkey-0").getMetadata().getLabels()).containsEntry(LABEL, "true");
  }
}
