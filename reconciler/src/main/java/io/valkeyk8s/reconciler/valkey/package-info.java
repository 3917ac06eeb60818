/**
 * What both modes say to Valkey and Sentinel: {@link io.valkeyk8s.reconciler.valkey.Address},
 * {@link io.valkeyk8s.reconciler.valkey.LettuceClients} (the one place connections are configured:
 * timeouts, reconnects, log-in), {@link io.valkeyk8s.reconciler.valkey.NodeClients} (a connection
 * per data node) and {@link io.valkeyk8s.reconciler.valkey.NodeClient} (ROLE, INFO, REPLICAOF,
 * CLIENT KILL/PAUSE and the CLUSTER commands).
 */
package io.valkeyk8s.reconciler.valkey;
