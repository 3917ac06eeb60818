/**
 * The one-shot cluster commands of the chart's hook Jobs: {@code init} (post-install), {@code
 * scale-up} (post-upgrade), {@code scale-down} (pre-upgrade), on the shared {@link
 * io.valkeyk8s.reconciler.cluster.command.OneShotCommand}.
 */
package io.valkeyk8s.reconciler.cluster.command;
