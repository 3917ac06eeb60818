package io.valkeyk8s.reconciler.sentinel;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import org.junit.jupiter.api.Test;

class CrashEvidenceTest {
  private final CrashEvidence evidence = new CrashEvidence();

  private static Pod pod(String uid, ContainerStatus... statuses) {
    return new PodBuilder()
        .withNewMetadata()
        .withName("valkey-0")
        .withUid(uid)
        .endMetadata()
        .withNewStatus()
        .withContainerStatuses(statuses)
        .endStatus()
        .build();
  }

  private static ContainerStatus running(String name, String id, int restarts) {
    return new ContainerStatusBuilder()
        .withName(name)
        .withContainerID(id)
        .withRestartCount(restarts)
        .withNewState()
        .withNewRunning()
        .withStartedAt("2026-12-01T00:00:00Z")
        .endRunning()
        .endState()
        .build();
  }

  private static ContainerStatus terminated(String id, int restarts) {
    return new ContainerStatusBuilder()
        .withName("valkey")
        .withContainerID(id)
        .withRestartCount(restarts)
        .withNewState()
        .withNewTerminated()
        .withContainerID(id)
        .withExitCode(137)
        .withReason("Error")
        .endTerminated()
        .endState()
        .build();
  }

  /** Running again under a new ID, the old container in lastState. */
  private static ContainerStatus restarted(String oldId, String newId, int restarts) {
    return new ContainerStatusBuilder(running("valkey", newId, restarts))
        .withNewLastState()
        .withNewTerminated()
        .withContainerID(oldId)
        .withExitCode(137)
        .withReason("Error")
        .endTerminated()
        .endLastState()
        .build();
  }

  @Test
  void aRunningContainerIsNoEvidence() {
    assertThat(evidence.newCrash(pod("u1", running("valkey", "c://a", 0)))).isEmpty();
  }

  @Test
  void aPodWithoutContainerStatusesIsNoEvidence() {
    assertThat(evidence.newCrash(pod("u1"))).isEmpty();
  }

  @Test
  void aTerminatedContainerIsReportedOnceWithItsExitCode() {
    Pod crashed = pod("u1", terminated("c://a", 0));
    assertThat(evidence.newCrash(crashed)).contains(new CrashEvidence.Crash("c://a", 137, "Error"));
    assertThat(evidence.newCrash(crashed)).isEmpty();
    // The same container seen again as the last state of its successor: still once.
    assertThat(evidence.newCrash(pod("u1", restarted("c://a", "c://b", 1)))).isEmpty();
  }

  @Test
  void aRestartOfTheContainerSeenRunningIsEvidence() {
    assertThat(evidence.newCrash(pod("u1", running("valkey", "c://a", 0)))).isEmpty();
    assertThat(evidence.newCrash(pod("u1", restarted("c://a", "c://b", 1))))
        .contains(new CrashEvidence.Crash("c://a", 137, "Error"));
  }

  @Test
  void aHigherRestartCountCountsEvenWhenTheLastStateNamesNoContainer() {
    evidence.newCrash(pod("u1", running("valkey", "c://a", 2)));
    assertThat(evidence.newCrash(pod("u1", restarted(null, "c://b", 3))))
        .contains(new CrashEvidence.Crash("c://a", 137, "Error"));
  }

  @Test
  void anOldCrashBeforeTheContainerWeKnowIsNoEvidence() {
    // Seen for the first time (a reconciler that just started) with a crash in its past.
    assertThat(evidence.newCrash(pod("u1", restarted("c://old", "c://b", 1)))).isEmpty();
    // Seen again unchanged: the running container is the one we know.
    assertThat(evidence.newCrash(pod("u1", restarted("c://old", "c://b", 1)))).isEmpty();
  }

  @Test
  void anotherPodWithTheSameNameStartsWithNothingSeen() {
    evidence.newCrash(pod("u1", running("valkey", "c://a", 0)));
    assertThat(evidence.newCrash(pod("u2", restarted("c://x", "c://y", 1)))).isEmpty();
  }

  @Test
  void aTerminatingPodIsNoEvidence() {
    Pod deleted =
        new PodBuilder(pod("u1", terminated("c://a", 0)))
            .editMetadata()
            .withDeletionTimestamp("2026-12-01T00:00:00Z")
            .endMetadata()
            .build();
    assertThat(evidence.newCrash(deleted)).isEmpty();
  }

  @Test
  void otherContainersOfThePodAreIgnored() {
    ContainerStatus sentinelGone =
        new ContainerStatusBuilder(terminated("c://s", 0)).withName("sentinel").build();
    assertThat(evidence.newCrash(pod("u1", sentinelGone, running("valkey", "c://a", 0)))).isEmpty();
  }
}
