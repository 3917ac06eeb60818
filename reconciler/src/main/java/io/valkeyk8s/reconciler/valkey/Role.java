package io.valkeyk8s.reconciler.valkey;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A node's answer to ROLE: "master" with its offset and replicas, "slave" (a replica, with its
 * processed offset), or "sentinel".
 */
public record Role(String role, long offset, List<Replica> replicas) {
  /** A replica as the primary's ROLE reports it. */
  public record Replica(Address address, long offset) {}

  public boolean isPrimary() {
    return "master".equals(role);
  }

  /** Parses the reply, whose strings may arrive as text or as bytes. */
  public static Role parse(List<?> reply) {
    String role = text(reply.get(0));
    if ("slave".equals(role) && reply.size() > 4) {
      // slave, primary host, primary port, link state, processed offset
      return new Role(role, ((Number) reply.get(4)).longValue(), List.of());
    }
    if (!"master".equals(role)) {
      return new Role(role, -1, List.of());
    }
    long offset = ((Number) reply.get(1)).longValue();
    List<Replica> replicas = new ArrayList<>();
    for (Object o : (List<?>) reply.get(2)) {
      List<?> r = (List<?>) o;
      replicas.add(
          new Replica(
              new Address(text(r.get(0)), Integer.parseInt(text(r.get(1)))),
              Long.parseLong(text(r.get(2)))));
    }
    return new Role(role, offset, List.copyOf(replicas));
  }

  private static String text(Object value) {
    return value instanceof byte[] b
        ? new String(b, StandardCharsets.UTF_8)
        : String.valueOf(value);
  }
}
