package io.valkeyk8s.reconciler.valkey;

import java.util.Optional;
import java.util.function.Function;

/**
 * The data pods by their stable DNS names ({@code <pod>.<headless
 * Service>.<namespace>.svc.<domain>}, the names their certificate carries), for TLS: a node known
 * by its pod IP (cluster mode, a fenced pod) is dialled under its name so that host name
 * verification holds, and a name goes to the IP the pod cache knows now rather than one a DNS cache
 * kept from before a restart.
 */
public interface PodNames {
  /** Nothing known: IPs are dialled as they are and names resolved by DNS. */
  PodNames NONE =
      new PodNames() {
        @Override
        public Optional<String> nameOf(String ip) {
          return Optional.empty();
        }

        @Override
        public Optional<String> ipOf(String host) {
          return Optional.empty();
        }
      };

  static PodNames of(
      Function<String, Optional<String>> nameOf, Function<String, Optional<String>> ipOf) {
    return new PodNames() {
      @Override
      public Optional<String> nameOf(String ip) {
        return nameOf.apply(ip);
      }

      @Override
      public Optional<String> ipOf(String host) {
        return ipOf.apply(host);
      }
    };
  }

  /** The stable name of the pod at this IP. */
  Optional<String> nameOf(String ip);

  /** The IP of the pod this name (a stable name, a host name) belongs to. */
  Optional<String> ipOf(String host);

  /** True for an IPv4 or IPv6 literal. */
  static boolean isIp(String host) {
    return host.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}") || host.contains(":");
  }
}
