/**
 * Sentinel mode: keep the primary label on the pod the Sentinels elected. {@link
 * io.valkeyk8s.reconciler.sentinel.SentinelCommand} ({@code sentinel}, the default) wires it on the
 * shared {@link io.valkeyk8s.reconciler.kube.Controller}; {@link
 * io.valkeyk8s.reconciler.sentinel.Sentinels} watches every Sentinel and answers by majority;
 * {@link io.valkeyk8s.reconciler.sentinel.PrimaryReconciler} is the pass (truth, then break before
 * make), with {@link io.valkeyk8s.reconciler.sentinel.Fencer} (disconnects a demoted primary's
 * clients), {@link io.valkeyk8s.reconciler.sentinel.Handover} (planned handover of a terminating
 * primary), {@link io.valkeyk8s.reconciler.sentinel.SwitchClock} and {@link
 * io.valkeyk8s.reconciler.sentinel.SentinelMetrics}.
 */
package io.valkeyk8s.reconciler.sentinel;
