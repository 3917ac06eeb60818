package io.valkeyk8s.reconciler.cluster;

import java.util.List;

/**
 * The data pods of the release, ordered by ordinal. Implemented on the Kubernetes API; replaceable
 * in tests.
 */
public interface PodDirectory {
  List<ClusterPod> pods();
}
