package io.valkeyk8s.reconciler.core;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/**
 * Named liveness and readiness checks. Liveness fails only when a part is stuck or dead (the
 * kubelet then restarts the process); readiness fails while the process cannot see the truth
 * (Sentinel or API server unreachable, cache not synced).
 */
public final class Health {
  private final Map<String, BooleanSupplier> liveness = new ConcurrentHashMap<>();
  private final Map<String, BooleanSupplier> readiness = new ConcurrentHashMap<>();

  public void liveness(String name, BooleanSupplier check) {
    liveness.put(name, check);
  }

  public void readiness(String name, BooleanSupplier check) {
    readiness.put(name, check);
  }

  public boolean isAlive() {
    return liveness.values().stream().allMatch(BooleanSupplier::getAsBoolean);
  }

  public boolean isReady() {
    return isAlive() && readiness.values().stream().allMatch(BooleanSupplier::getAsBoolean);
  }

  /** One line per check, "name ok" or "name failing", for the probe response body. */
  public String describe(boolean includeReadiness) {
    Map<String, BooleanSupplier> all = new java.util.TreeMap<>(liveness);
    if (includeReadiness) {
      all.putAll(readiness);
    }
    return all.entrySet().stream()
        .map(e -> e.getKey() + (e.getValue().getAsBoolean() ? " ok" : " failing"))
        .collect(Collectors.joining("\n", "", "\n"));
  }
}
