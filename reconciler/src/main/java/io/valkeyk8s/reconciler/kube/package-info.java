/**
 * Kubernetes, for both modes: {@link io.valkeyk8s.reconciler.kube.PodIndex} (informer cache of the
 * data pods; by address, name and StatefulSet ordinal), {@link
 * io.valkeyk8s.reconciler.kube.LabelWriter} (the labels the reconciler owns, UID- and value-guarded
 * JSON patches, an Event per change), {@link io.valkeyk8s.reconciler.kube.Leadership} (a Lease) and
 * {@link io.valkeyk8s.reconciler.kube.Controller}, which wires them with the health server and the
 * loop for a long-running mode.
 */
package io.valkeyk8s.reconciler.kube;
