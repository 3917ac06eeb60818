package io.valkeyk8s.reconciler.sentinel;

import io.valkeyk8s.reconciler.valkey.Address;
import java.util.Optional;

/** A parsed {@code +switch-master} payload: "name old-host old-port new-host new-port". */
public record SwitchMessage(String masterName, Address from, Address to) {
  public static Optional<SwitchMessage> parse(String payload) {
    String[] parts = payload.trim().split("\\s+");
    if (parts.length != 5) {
      return Optional.empty();
    }
    try {
      return Optional.of(
          new SwitchMessage(
              parts[0],
              new Address(parts[1], Integer.parseInt(parts[2])),
              new Address(parts[3], Integer.parseInt(parts[4]))));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }
}
