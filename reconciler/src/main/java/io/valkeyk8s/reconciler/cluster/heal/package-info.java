/**
 * The long-running {@code cluster} healer: {@link
 * io.valkeyk8s.reconciler.cluster.heal.ClusterCommand} wires {@link
 * io.valkeyk8s.reconciler.cluster.heal.HealPass} (re-meet, forget, adopt, label roles) and its
 * metrics on the shared controller.
 */
package io.valkeyk8s.reconciler.cluster.heal;
