package io.valkeyk8s.reconciler.kube;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import org.junit.jupiter.api.Test;

class PodAddressesTest {
  private final Pod pod =
      new PodBuilder()
          .withNewMetadata()
          .withName("valkey-1")
          .endMetadata()
          .withNewSpec()
          .withHostname("valkey-1")
          .withSubdomain("valkey-headless")
          .endSpec()
          .withNewStatus()
          .withPodIP("10.42.0.7")
          .addNewPodIP()
          .withIp("10.42.0.7")
          .endPodIP()
          .addNewPodIP()
          .withIp("fd00::7")
          .endPodIP()
          .endStatus()
          .build();

  @Test
  void matchesByAnyPodIp() {
    assertThat(PodAddresses.matches(pod, "10.42.0.7")).isTrue();
    assertThat(PodAddresses.matches(pod, "fd00::7")).isTrue();
    assertThat(PodAddresses.matches(pod, "10.42.0.70")).isFalse();
  }

  @Test
  void matchesByHostnameAndStableDnsName() {
    assertThat(PodAddresses.matches(pod, "valkey-1")).isTrue();
    assertThat(PodAddresses.matches(pod, "valkey-1.valkey-headless.ns.svc.cluster.local")).isTrue();
    assertThat(PodAddresses.matches(pod, "VALKEY-1.valkey-headless.ns.svc.cluster.local."))
        .isTrue();
  }

  @Test
  void rejectsOtherPodsAndOtherSets() {
    assertThat(PodAddresses.matches(pod, "valkey-10.valkey-headless.ns.svc")).isFalse();
    assertThat(PodAddresses.matches(pod, "valkey-1.other-headless.ns.svc")).isFalse();
    assertThat(PodAddresses.matches(pod, "")).isFalse();
  }

  @Test
  void usesThePodNameWhenNoHostnameIsSet() {
    Pod plain =
        new PodBuilder()
            .withNewMetadata()
            .withName("valkey-2")
            .endMetadata()
            .withNewSpec()
            .endSpec()
            .build();
    assertThat(PodAddresses.matches(plain, "valkey-2.anything")).isTrue();
  }
}
