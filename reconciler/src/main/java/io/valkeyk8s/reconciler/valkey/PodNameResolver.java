package io.valkeyk8s.reconciler.valkey;

import io.lettuce.core.resource.DnsResolver;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * Lettuce's host resolution for TLS connections: a name that belongs to a pod goes to the pod's IP
 * from the pod cache, kept together with the name (the TLS handshake verifies the certificate
 * against the name); any other name is left to DNS.
 */
final class PodNameResolver implements DnsResolver {
  private static final InetAddress[] UNRESOLVED = new InetAddress[0];
  private final PodNames names;

  PodNameResolver(PodNames names) {
    this.names = names;
  }

  @Override
  public InetAddress[] resolve(String host) throws UnknownHostException {
    if (PodNames.isIp(host)) {
      return UNRESOLVED;
    }
    Optional<String> ip = names.ipOf(host);
    if (ip.isEmpty() || !PodNames.isIp(ip.get())) {
      return UNRESOLVED;
    }
    // An IP literal: no lookup; the name stays attached for SNI and verification.
    return new InetAddress[] {
      InetAddress.getByAddress(host, InetAddress.getByName(ip.get()).getAddress())
    };
  }
}
