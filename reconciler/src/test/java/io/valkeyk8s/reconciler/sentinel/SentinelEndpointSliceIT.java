package io.valkeyk8s.reconciler.sentinel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.valkeyk8s.reconciler.kube.Controller;
import io.valkeyk8s.testsupport.KubeApiServer;
import io.valkeyk8s.testsupport.KubeApiServerExtension;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The primary Service's EndpointSlice (VALKEY_PRIMARY_ENDPOINT_SLICE) in Sentinel mode, against a
 * real kube-apiserver and real Valkey and Sentinel processes: unset, no slice is ever written; set,
 * a slice the API server refuses never holds back the label.
 */
@ExtendWith(KubeApiServerExtension.class)
class SentinelEndpointSliceIT {
  private static final String SERVICE = "valkey";
  private static final String SLICE = "valkey-primary";

  private final KubeApiServer api;
  private SentinelScenario s;
  private SharedIndexInformer<EndpointSlice> sliceWatch;
  private final AtomicInteger sliceEvents = new AtomicInteger();

  SentinelEndpointSliceIT(KubeApiServer api) {
    this.api = api;
  }

  @BeforeEach
  void start() throws Exception {
    s = new SentinelScenario(api);
    // The chart's primary Service in this mode: no selector, the slice routes it.
    s.client
        .services()
        .inNamespace(s.pods.namespace())
        .resource(
            new ServiceBuilder()
                .withNewMetadata()
                .withName(SERVICE)
                .endMetadata()
                .withNewSpec()
                .addNewPort()
                .withName("valkey")
                .withPort(6379)
                .withNewTargetPort(s.valkey.valkeyPort())
                .endPort()
                .endSpec()
                .build())
        .create();
    sliceWatch =
        s.client
            .discovery()
            .v1()
            .endpointSlices()
            .inNamespace(s.pods.namespace())
            .inform(
                new ResourceEventHandler<>() {
                  @Override
                  public void onAdd(EndpointSlice slice) {
                    record(slice);
                  }

                  @Override
                  public void onUpdate(EndpointSlice before, EndpointSlice after) {
                    record(after);
                  }

                  @Override
                  public void onDelete(EndpointSlice slice, boolean finalStateUnknown) {}
                },
                0);
  }

  @AfterEach
  void stop() {
    sliceWatch.stop();
    s.close();
  }

  private void record(EndpointSlice slice) {
    sliceEvents.incrementAndGet();
  }

  private Map<String, String> env(String identity) {
    Map<String, String> env = s.env(identity);
    env.put("VALKEY_PRIMARY_ENDPOINT_SLICE", SLICE);
    env.put("VALKEY_PRIMARY_SERVICE", SERVICE);
    return env;
  }

  private EndpointSlice slice() {
    return s.client
        .discovery()
        .v1()
        .endpointSlices()
        .inNamespace(s.pods.namespace())
        .withName(SLICE)
        .get();
  }

  @Test
  void aSliceTheApiServerRefusesDoesNotHoldBackTheLabel() throws Exception {
    // This API server refuses loopback endpoint addresses, and the pods here have the loopback
    // addresses of their Valkey processes: a real refusal on every write (what the slice holds
    // after start, failover, restart and hand edits is EndpointSliceWriterIT's; e2e/bench runs
    // it on the local cluster).
    s.startReconciler(env("r1"));
    assertThat(s.awaitLabelOnSentinelPrimary()).isEqualTo("valkey-0");
    s.movePrimaryTo(1);
    assertThat(s.awaitLabelOnSentinelPrimary()).isEqualTo("valkey-1");
    assertThat(slice()).isNull();
    assertThat(sliceEvents.get()).isZero();
    s.assertNeverTwoLabelled();
  }

  @Test
  void unsetWritesNoSlice() throws Exception {
    Controller r = s.startReconciler("r1");
    s.awaitLabelOnSentinelPrimary();
    await().atMost(SentinelScenario.CONVERGE).until(() -> r.health().isReady());
    // Two resync periods (RESYNC_SECONDS=2) of passes: none may have written a slice.
    Thread.sleep(4_000);
    List<EndpointSlice> slices =
        s.client
            .discovery()
            .v1()
            .endpointSlices()
            .inNamespace(s.pods.namespace())
            .list()
            .getItems();
    assertThat(slices).isEmpty();
    assertThat(sliceEvents.get()).as("slice events seen by an informer").isZero();
  }
}
