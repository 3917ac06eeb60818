package io.valkeyk8s.reconciler.kube;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.valkeyk8s.reconciler.core.Config;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class EndpointSliceWriterTest {
  private static final Config.Sentinel.PrimarySlice SLICE =
      new Config.Sentinel.PrimarySlice("v-primary", "v", "valkey");

  private static Pod pod(String name, String uid, String ip) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withUid(uid)
        .endMetadata()
        .withNewStatus()
        .withPodIP(ip)
        .endStatus()
        .build();
  }

  private static EndpointSlice desired(Optional<Pod> pod) {
    return EndpointSliceWriter.desired("ns", SLICE, 6379, pod);
  }

  @Test
  void onePrimaryIsOneReadyEndpointWithItsPod() {
    EndpointSlice slice = desired(Optional.of(pod("valkey-1", "u1", "10.0.0.7")));
    assertThat(slice.getMetadata().getLabels())
        .containsEntry("kubernetes.io/service-name", "v")
        .containsEntry("endpointslice.kubernetes.io/managed-by", EndpointSliceWriter.MANAGED_BY);
    assertThat(slice.getAddressType()).isEqualTo("IPv4");
    assertThat(slice.getPorts().get(0).getName()).isEqualTo("valkey");
    assertThat(slice.getPorts().get(0).getPort()).isEqualTo(6379);
    assertThat(slice.getEndpoints())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.getAddresses()).containsExactly("10.0.0.7");
              assertThat(e.getConditions().getReady()).isTrue();
              assertThat(e.getTargetRef().getName()).isEqualTo("valkey-1");
              assertThat(e.getTargetRef().getUid()).isEqualTo("u1");
            });
  }

  @Test
  void noPrimaryOrNoPodIpIsNoEndpoint() {
    assertThat(desired(Optional.empty()).getEndpoints()).isEmpty();
    assertThat(desired(Optional.of(pod("valkey-1", "u1", null))).getEndpoints()).isEmpty();
  }

  @Test
  void anIpv6PodGetsAnIpv6Slice() {
    assertThat(desired(Optional.of(pod("valkey-1", "u1", "fd00::7"))).getAddressType())
        .isEqualTo("IPv6");
  }

  @Test
  void onlyRoutingDifferencesCount() {
    EndpointSlice wanted = desired(Optional.of(pod("valkey-1", "u1", "10.0.0.7")));
    EndpointSlice live =
        new EndpointSliceBuilder(wanted)
            .editMetadata()
            .withResourceVersion("42")
            .addToLabels("someone.else/label", "x")
            .endMetadata()
            .build();
    assertThat(EndpointSliceWriter.sameRouting(live, wanted)).isTrue();

    EndpointSlice other = desired(Optional.of(pod("valkey-2", "u2", "10.0.0.8")));
    assertThat(EndpointSliceWriter.sameRouting(other, wanted)).isFalse();
    EndpointSlice recreatedPod = desired(Optional.of(pod("valkey-1", "u9", "10.0.0.7")));
    assertThat(EndpointSliceWriter.sameRouting(recreatedPod, wanted)).isFalse();
    EndpointSlice twoEndpoints =
        new EndpointSliceBuilder(wanted)
            .addToEndpoints(new EndpointBuilder().withAddresses("10.0.0.8").build())
            .build();
    assertThat(EndpointSliceWriter.sameRouting(twoEndpoints, wanted)).isFalse();
    EndpointSlice unlabelled =
        new EndpointSliceBuilder(wanted).editMetadata().withLabels(null).endMetadata().build();
    assertThat(EndpointSliceWriter.sameRouting(unlabelled, wanted)).isFalse();
  }
}
