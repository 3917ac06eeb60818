package io.valkeyk8s.reconciler.kube;

import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.valkeyk8s.reconciler.core.Config;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the one EndpointSlice of the selector-less primary Service: at most one endpoint, the
 * primary pod. A switch is one update (old address to new), so kube-proxy syncs once and never sees
 * two endpoints. The slice is read from the API server on every call (not a cache that may lag
 * behind our own last write) and updated with its resourceVersion, so a concurrent edit makes the
 * write fail instead of being overwritten blindly; the next pass repairs it.
 */
public final class EndpointSliceWriter {
  private static final Logger log = LoggerFactory.getLogger(EndpointSliceWriter.class);

  /** The value of endpointslice.kubernetes.io/managed-by on the slice. */
  public static final String MANAGED_BY = "valkey-reconciler.valkey.io";

  static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";
  static final String MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";

  private final KubernetesClient client;
  private final String namespace;
  private final Config.Sentinel.PrimarySlice slice;
  private final int port;
  private String lastFailure = "";

  /**
   * @param port the primary's Valkey port, the slice port's number
   */
  public EndpointSliceWriter(
      KubernetesClient client, String namespace, Config.Sentinel.PrimarySlice slice, int port) {
    this.client = client;
    this.namespace = namespace;
    this.slice = slice;
    this.port = port;
  }

  /**
   * Converges the slice to exactly this pod's address, or to no endpoint when empty. True when the
   * slice is now as asked (also when it already was); false when the Service does not exist yet,
   * someone else changed the slice meanwhile, or the API server refused the write (logged once per
   * distinct error): retry soon. Never throws for an API error, so a slice that cannot be written
   * does not hold back the label.
   */
  public boolean converge(Optional<Pod> primary, String why) {
    EndpointSlice desired = desired(namespace, slice, port, primary);
    Resource<EndpointSlice> resource =
        client.discovery().v1().endpointSlices().inNamespace(namespace).withName(slice.name());
    long started = System.nanoTime();
    try {
      EndpointSlice live = resource.get();
      if (live != null && sameRouting(live, desired)) {
        return true;
      }
      if (live == null) {
        Service service = client.services().inNamespace(namespace).withName(slice.service()).get();
        if (service == null) {
          log.warn(
              "action=wait slice={} reason=\"Service {} does not exist\"",
              slice.name(),
              slice.service());
          return false;
        }
        // Deleted with its Service (garbage collection), like the endpoint controller's slices.
        desired
            .getMetadata()
            .setOwnerReferences(
                List.of(
                    new OwnerReferenceBuilder()
                        .withApiVersion("v1")
                        .withKind("Service")
                        .withName(slice.service())
                        .withUid(service.getMetadata().getUid())
                        .build()));
        client.discovery().v1().endpointSlices().inNamespace(namespace).resource(desired).create();
      } else if (!Objects.equals(live.getAddressType(), desired.getAddressType())) {
        // addressType is immutable: recreate (only when the pod IP family changed).
        resource.lockResourceVersion(live.getMetadata().getResourceVersion()).delete();
        return false;
      } else {
        Map<String, String> labels = new HashMap<>();
        if (live.getMetadata().getLabels() != null) {
          labels.putAll(live.getMetadata().getLabels());
        }
        labels.putAll(desired.getMetadata().getLabels());
        EndpointSlice updated =
            new EndpointSliceBuilder(live)
                .editMetadata()
                .withLabels(labels)
                .endMetadata()
                .withEndpoints(desired.getEndpoints())
                .withPorts(desired.getPorts())
                .build();
        client.discovery().v1().endpointSlices().inNamespace(namespace).resource(updated).update();
      }
      lastFailure = "";
      log.info(
          "action=endpoint-slice slice={} from={} to={} took_ms={} reason=\"{}\"",
          slice.name(),
          live == null ? "absent" : describe(live),
          describe(desired),
          (System.nanoTime() - started) / 1_000_000,
          why);
      return true;
    } catch (KubernetesClientException e) {
      // 409: changed since read (resourceVersion); 404: deleted since read.
      if (e.getCode() != 409 && e.getCode() != 404 && !e.getMessage().equals(lastFailure)) {
        log.warn(
            "action=endpoint-slice-failed slice={} to={} code={} error=\"{}\"",
            slice.name(),
            describe(desired),
            e.getCode(),
            e.getMessage());
      }
      lastFailure = e.getMessage() == null ? "" : e.getMessage();
      return false;
    }
  }

  /** The slice as it must be: one ready endpoint for the pod, or none. */
  static EndpointSlice desired(
      String namespace, Config.Sentinel.PrimarySlice slice, int port, Optional<Pod> primary) {
    Optional<String> ip = primary.map(p -> p.getStatus() == null ? null : p.getStatus().getPodIP());
    List<Endpoint> endpoints =
        primary.isEmpty() || ip.isEmpty()
            ? List.of()
            : List.of(
                new EndpointBuilder()
                    .withAddresses(ip.get())
                    .withNewConditions()
                    .withReady(true)
                    .withServing(true)
                    .withTerminating(false)
                    .endConditions()
                    .withNewTargetRef()
                    .withKind("Pod")
                    .withNamespace(namespace)
                    .withName(primary.get().getMetadata().getName())
                    .withUid(primary.get().getMetadata().getUid())
                    .endTargetRef()
                    .withNodeName(
                        primary.get().getSpec() == null
                            ? null
                            : primary.get().getSpec().getNodeName())
                    .build());
    return new EndpointSliceBuilder()
        .withNewMetadata()
        .withName(slice.name())
        .withNamespace(namespace)
        .withLabels(Map.of(SERVICE_NAME_LABEL, slice.service(), MANAGED_BY_LABEL, MANAGED_BY))
        .endMetadata()
        .withAddressType(ip.filter(a -> a.contains(":")).isPresent() ? "IPv6" : "IPv4")
        .withEndpoints(endpoints)
        .withPorts(
            new EndpointPortBuilder()
                .withName(slice.portName())
                .withPort(port)
                .withProtocol("TCP")
                .build())
        .build();
  }

  /**
   * True when the live slice routes exactly as the desired one: same labels we own, ports,
   * addresses, target pods and readiness (fields the API server defaults are ignored).
   */
  static boolean sameRouting(EndpointSlice live, EndpointSlice desired) {
    Map<String, String> labels =
        live.getMetadata().getLabels() == null ? Map.of() : live.getMetadata().getLabels();
    for (Map.Entry<String, String> own : desired.getMetadata().getLabels().entrySet()) {
      if (!own.getValue().equals(labels.get(own.getKey()))) {
        return false;
      }
    }
    return Objects.equals(live.getAddressType(), desired.getAddressType())
        && Objects.equals(live.getPorts(), desired.getPorts())
        && routes(live).equals(routes(desired));
  }

  private static List<String> routes(EndpointSlice s) {
    if (s.getEndpoints() == null) {
      return List.of();
    }
    return s.getEndpoints().stream()
        .map(
            e ->
                e.getAddresses()
                    + "/"
                    + (e.getTargetRef() == null ? null : e.getTargetRef().getUid())
                    + "/"
                    + (e.getConditions() == null ? null : e.getConditions().getReady())
                    + "/"
                    + (e.getConditions() == null ? null : e.getConditions().getTerminating()))
        .toList();
  }

  private static String describe(EndpointSlice s) {
    if (s.getEndpoints() == null || s.getEndpoints().isEmpty()) {
      return "none";
    }
    return String.join(
        ",",
        s.getEndpoints().stream()
            .map(
                e ->
                    String.join("+", e.getAddresses())
                        + (e.getTargetRef() == null ? "" : "(" + e.getTargetRef().getName() + ")"))
            .toList());
  }
}
