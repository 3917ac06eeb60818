package io.valkeyk8s.reconciler.kube;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.valkeyk8s.reconciler.core.Config;
import io.valkeyk8s.reconciler.testing.TestPods;
import io.valkeyk8s.testsupport.KubeApiServer;
import io.valkeyk8s.testsupport.KubeApiServerExtension;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The slice writer against a real kube-apiserver (its validation, resourceVersion checks and
 * watch). Pods get documentation addresses (192.0.2.0/24): the API server refuses loopback
 * addresses in an EndpointSlice, so the Sentinel ITs' loopback pods cannot carry one (see
 * SentinelEndpointSliceIT); no connection is made here.
 */
@ExtendWith(KubeApiServerExtension.class)
class EndpointSliceWriterIT {
  private static final Config.Sentinel.PrimarySlice SLICE =
      new Config.Sentinel.PrimarySlice("valkey-primary", "valkey", "valkey");

  private final KubeApiServer api;
  private KubernetesClient client;
  private TestPods pods;
  private SharedIndexInformer<EndpointSlice> watch;
  private final List<EndpointSlice> seen = new CopyOnWriteArrayList<>();

  EndpointSliceWriterIT(KubeApiServer api) {
    this.api = api;
  }

  @BeforeEach
  void start() {
    client = api.newClient();
    pods = TestPods.inNewNamespace(client, "slice");
    watch =
        client
            .discovery()
            .v1()
            .endpointSlices()
            .inNamespace(pods.namespace())
            .inform(
                new ResourceEventHandler<>() {
                  @Override
                  public void onAdd(EndpointSlice slice) {
                    seen.add(slice);
                  }

                  @Override
                  public void onUpdate(EndpointSlice before, EndpointSlice after) {
                    seen.add(after);
                  }

                  @Override
                  public void onDelete(EndpointSlice slice, boolean finalStateUnknown) {}
                },
                0);
  }

  @AfterEach
  void stop() {
    watch.stop();
    client.close();
  }

  private void createService() {
    client
        .services()
        .inNamespace(pods.namespace())
        .resource(
            new ServiceBuilder()
                .withNewMetadata()
                .withName("valkey")
                .endMetadata()
                .withNewSpec()
                .addNewPort()
                .withName("valkey")
                .withPort(6379)
                .endPort()
                .endSpec()
                .build())
        .create();
  }

  private EndpointSliceWriter writer() {
    return new EndpointSliceWriter(client, pods.namespace(), SLICE, 6379);
  }

  private EndpointSlice live() {
    return client
        .discovery()
        .v1()
        .endpointSlices()
        .inNamespace(pods.namespace())
        .withName(SLICE.name())
        .get();
  }

  private static void assertOn(EndpointSlice slice, Pod pod) {
    assertThat(slice.getEndpoints())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getAddresses()).containsExactly(pod.getStatus().getPodIP());
              assertThat(e.getTargetRef().getUid()).isEqualTo(pod.getMetadata().getUid());
              assertThat(e.getConditions().getReady()).isTrue();
            });
  }

  /** Waits until the watch delivered the slice at this resourceVersion. */
  private void awaitSeen(EndpointSlice slice) {
    Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                seen.stream()
                    .anyMatch(
                        s ->
                            s.getMetadata()
                                .getResourceVersion()
                                .equals(slice.getMetadata().getResourceVersion())));
  }

  @Test
  void aSwitchIsOneUpdateFromOldToNewAndNeverTwoEndpoints() {
    createService();
    Pod a = pods.create("valkey-0", "192.0.2.10");
    Pod b = pods.create("valkey-1", "192.0.2.11");

    assertThat(writer().converge(Optional.of(a), "test")).isTrue();
    EndpointSlice created = live();
    assertOn(created, a);
    assertThat(created.getMetadata().getLabels())
        .containsEntry("kubernetes.io/service-name", "valkey")
        .containsEntry("endpointslice.kubernetes.io/managed-by", EndpointSliceWriter.MANAGED_BY);
    assertThat(created.getMetadata().getOwnerReferences())
        .singleElement()
        .satisfies(o -> assertThat(o.getKind()).isEqualTo("Service"));
    assertThat(created.getPorts())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.getName()).isEqualTo("valkey");
              assertThat(p.getPort()).isEqualTo(6379);
            });

    // Already as asked: no write at all.
    assertThat(writer().converge(Optional.of(a), "test")).isTrue();
    assertThat(live().getMetadata().getResourceVersion())
        .isEqualTo(created.getMetadata().getResourceVersion());

    assertThat(writer().converge(Optional.of(b), "test")).isTrue();
    EndpointSlice switched = live();
    assertOn(switched, b);
    awaitSeen(switched);
    // Exactly two versions were ever written (created on a, updated to b), none with two endpoints.
    assertThat(seen).hasSize(2);
    assertThat(seen).allSatisfy(s -> assertThat(s.getEndpoints()).hasSize(1));

    assertThat(writer().converge(Optional.empty(), "test")).isTrue();
    assertThat(live().getEndpoints()).isNullOrEmpty();
  }

  @Test
  void aHandEditIsRepairedByAFreshWriter() {
    createService();
    Pod a = pods.create("valkey-0", "192.0.2.20");
    Pod b = pods.create("valkey-1", "192.0.2.21");
    assertThat(writer().converge(Optional.of(a), "test")).isTrue();

    // Someone adds a second endpoint and drops our label.
    EndpointSlice edited =
        new EndpointSliceBuilder(live())
            .editMetadata()
            .removeFromLabels("endpointslice.kubernetes.io/managed-by")
            .endMetadata()
            .addToEndpoints(
                new EndpointBuilder()
                    .withAddresses(b.getStatus().getPodIP())
                    .withNewConditions()
                    .withReady(true)
                    .endConditions()
                    .build())
            .build();
    client
        .discovery()
        .v1()
        .endpointSlices()
        .inNamespace(pods.namespace())
        .resource(edited)
        .update();
    assertThat(live().getEndpoints()).hasSize(2);

    // A restarted reconciler (a new writer) converges from the live object.
    assertThat(writer().converge(Optional.of(a), "test")).isTrue();
    EndpointSlice repaired = live();
    assertOn(repaired, a);
    assertThat(repaired.getMetadata().getLabels())
        .containsEntry("endpointslice.kubernetes.io/managed-by", EndpointSliceWriter.MANAGED_BY);
  }

  @Test
  void withoutItsServiceNothingIsCreated() {
    Pod a = pods.create("valkey-0", "192.0.2.30");
    assertThat(writer().converge(Optional.of(a), "test")).isFalse();
    assertThat(live()).isNull();
  }

  @Test
  void theApiServerRefusesALoopbackEndpointAndTheWriterReportsFalse() {
    createService();
    Pod loopback = pods.create("valkey-0", "127.0.0.5");
    assertThat(writer().converge(Optional.of(loopback), "test")).isFalse();
    assertThat(live()).isNull();
  }
}
