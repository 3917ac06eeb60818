/**
 * The bottom layer, shared by every mode and knowing none: the settings ({@link
 * io.valkeyk8s.reconciler.core.Config} with its per-mode parts, read through {@link
 * io.valkeyk8s.reconciler.core.Env}; a bad value is one {@link
 * io.valkeyk8s.reconciler.core.ConfigException} line), the de-duplicating {@link
 * io.valkeyk8s.reconciler.core.WorkQueue}, the one {@link
 * io.valkeyk8s.reconciler.core.ReconcileLoop} with {@link io.valkeyk8s.reconciler.core.Backoff},
 * {@link io.valkeyk8s.reconciler.core.Health} and {@link
 * io.valkeyk8s.reconciler.core.HealthServer}, {@link io.valkeyk8s.reconciler.core.WaitLog} (each
 * wait logged once) and {@link io.valkeyk8s.reconciler.core.StepFailedException} (a named step
 * failed on a node).
 */
package io.valkeyk8s.reconciler.core;
