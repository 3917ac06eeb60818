package io.valkeyk8s.reconciler.sentinel;

import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The kubelet's word that the Valkey process of a pod is gone: its {@code valkey} container's
 * status is {@code state.terminated}, or {@code lastState.terminated} for the container this object
 * saw running (same container ID, or a higher restart count since). Nothing else counts: a pod that
 * is not ready, frozen or cut off reports a running container (that stays the Sentinels' decision),
 * and a terminating or vanished pod proves nothing about a process on a node that may be lost. Each
 * terminated container is reported once.
 */
final class CrashEvidence {
  static final String CONTAINER = "valkey";

  /** Bounds the memory of a long-running reconciler; pods and restarts are few. */
  private static final int REMEMBERED = 256;

  /** The kubelet's report of a terminated container. */
  record Crash(String containerId, Integer exitCode, String reason) {}

  private record Running(String containerId, int restartCount) {}

  private final Map<String, Running> seenRunning = new LinkedHashMap<>();
  private final Set<String> reported = new LinkedHashSet<>();

  /**
   * The crash of this pod's Valkey container not reported before, if its status proves one; then
   * remembers the container it reports running (by pod UID) for the next call.
   */
  synchronized Optional<Crash> newCrash(Pod pod) {
    if (pod.getMetadata().getDeletionTimestamp() != null) {
      return Optional.empty(); // terminating or force-deleted: the process may still run
    }
    Optional<ContainerStatus> status = valkeyStatus(pod);
    if (status.isEmpty()) {
      return Optional.empty();
    }
    String uid = pod.getMetadata().getUid();
    Optional<Crash> crash = crashOf(status.get(), seenRunning.get(uid));
    remember(uid, status.get());
    return crash.filter(c -> c.containerId() != null && reported.add(c.containerId()));
  }

  private static Optional<Crash> crashOf(ContainerStatus status, Running seen) {
    ContainerStateTerminated now =
        status.getState() == null ? null : status.getState().getTerminated();
    if (now != null) {
      return Optional.of(crash(now, status.getContainerID()));
    }
    ContainerStateTerminated last =
        status.getLastState() == null ? null : status.getLastState().getTerminated();
    if (last == null || seen == null) {
      return Optional.empty(); // an old crash, before the container we know: proves nothing now
    }
    int restarts = status.getRestartCount() == null ? 0 : status.getRestartCount();
    boolean ours = seen.containerId().equals(last.getContainerID());
    if (ours || restarts > seen.restartCount()) {
      return Optional.of(crash(last, seen.containerId()));
    }
    return Optional.empty();
  }

  private static Crash crash(ContainerStateTerminated t, String fallbackId) {
    String id = t.getContainerID() != null ? t.getContainerID() : fallbackId;
    return new Crash(id, t.getExitCode(), t.getReason());
  }

  private void remember(String uid, ContainerStatus status) {
    if (status.getState() != null
        && status.getState().getRunning() != null
        && status.getContainerID() != null) {
      int restarts = status.getRestartCount() == null ? 0 : status.getRestartCount();
      seenRunning.remove(uid); // re-inserted last: the oldest entries are dropped first
      seenRunning.put(uid, new Running(status.getContainerID(), restarts));
    }
    trim(seenRunning.keySet());
    trim(reported);
  }

  private static void trim(Set<String> keys) {
    var it = keys.iterator();
    for (int excess = keys.size() - REMEMBERED; excess > 0 && it.hasNext(); excess--) {
      it.next();
      it.remove();
    }
  }

  private static Optional<ContainerStatus> valkeyStatus(Pod pod) {
    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
      return Optional.empty();
    }
    return pod.getStatus().getContainerStatuses().stream()
        .filter(c -> CONTAINER.equals(c.getName()))
        .findFirst();
  }
}
