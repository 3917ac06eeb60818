package io.valkeyk8s.reconciler.kube;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodIP;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Decides whether an address announced by Valkey or Sentinel names a pod: by IP (status.podIP and
 * status.podIPs) or by host name (the pod's host name, or a DNS name whose first label is the pod's
 * host name and whose second label, when the pod has a subdomain, is that subdomain: {@code
 * valkey-1.valkey-headless.ns.svc.cluster.local}).
 */
public final class PodAddresses {
  private PodAddresses() {}

  public static boolean matches(Pod pod, String host) {
    if (host == null || host.isBlank()) {
      return false;
    }
    String h = host.trim().toLowerCase(Locale.ROOT);
    if (h.endsWith(".")) {
      h = h.substring(0, h.length() - 1);
    }
    return matchesIp(pod, h) || matchesHostname(pod, h);
  }

  /**
   * The pod's stable DNS name, {@code <hostname>.<subdomain>.<namespace>.svc.<domain>}, when it has
   * a subdomain (a StatefulSet pod with its headless Service): what the chart's pods announce and
   * their certificates name.
   */
  public static Optional<String> stableName(Pod pod, String clusterDomain) {
    if (pod.getSpec() == null || pod.getSpec().getSubdomain() == null) {
      return Optional.empty();
    }
    String hostname =
        pod.getSpec().getHostname() != null
            ? pod.getSpec().getHostname()
            : pod.getMetadata().getName();
    return Optional.of(
        hostname
            + "."
            + pod.getSpec().getSubdomain()
            + "."
            + pod.getMetadata().getNamespace()
            + ".svc."
            + clusterDomain);
  }

  private static boolean matchesIp(Pod pod, String host) {
    if (pod.getStatus() == null) {
      return false;
    }
    if (host.equals(pod.getStatus().getPodIP())) {
      return true;
    }
    if (pod.getStatus().getPodIPs() != null) {
      for (PodIP ip : pod.getStatus().getPodIPs()) {
        if (host.equals(ip.getIp())) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean matchesHostname(Pod pod, String host) {
    String[] labels = host.split("\\.");
    String hostname =
        pod.getSpec() != null && pod.getSpec().getHostname() != null
            ? pod.getSpec().getHostname()
            : pod.getMetadata().getName();
    if (!labels[0].equals(hostname)) {
      return false;
    }
    if (labels.length == 1) {
      return true;
    }
    String subdomain = pod.getSpec() == null ? null : pod.getSpec().getSubdomain();
    // A name qualified by another subdomain belongs to another set of pods.
    return subdomain == null || Objects.equals(labels[1], subdomain);
  }
}
