{{/*
Helpers of the valkey chart. Every value of the public contract may arrive as
a string from a k3s HelmChart `set:` ("3"), so numbers go through valkey.int.
Impossible combinations `fail` here with a message naming the value.
*/}}

{{/* Name of every object: .Values.name, else the release name. */}}
{{- define "valkey.fullname" -}}
{{- $name := .Values.name | default "" | toString | default .Release.Name -}}
{{- if not (regexMatch "^[a-z]([-a-z0-9]*[a-z0-9])?$" $name) -}}
{{- fail (printf "name %q is not a DNS label: use lowercase letters, digits and '-', starting with a letter" $name) -}}
{{- end -}}
{{- if gt (len $name) 40 -}}
{{- fail (printf "name %q is longer than 40 characters: pod and Service names are built from it" $name) -}}
{{- end -}}
{{- $name -}}
{{- end -}}

{{- define "valkey.namespace" -}}
{{- .Values.namespace | default "" | toString | default .Release.Namespace -}}
{{- end -}}

{{/*
A whole number from an int, a float without fraction or a numeric string.
Call with (dict "value" X "key" "cluster.masters"), optionally "min" N;
prints the number.
*/}}
{{- define "valkey.int" -}}
{{- $s := "" -}}
{{- if not (kindIs "invalid" .value) -}}{{- $s = toString .value | trim -}}{{- end -}}
{{- if not (regexMatch "^-?[0-9]+$" $s) -}}
{{- fail (printf "%s must be a whole number, got %q" .key $s) -}}
{{- end -}}
{{- if and (hasKey . "min") (lt ($s | atoi) (int .min)) -}}
{{- fail (printf "%s must be at least %d, got %s" .key (int .min) $s) -}}
{{- end -}}
{{- $s | atoi -}}
{{- end -}}

{{- define "valkey.masters" -}}
{{- include "valkey.int" (dict "value" .Values.cluster.masters "key" "cluster.masters") -}}
{{- end -}}

{{- define "valkey.replicasPerMaster" -}}
{{- $r := include "valkey.int" (dict "value" .Values.cluster.replicasPerMaster "key" "cluster.replicasPerMaster") | atoi -}}
{{- if lt $r 0 -}}
{{- fail (printf "cluster.replicasPerMaster must be 0 or more, got %d" $r) -}}
{{- end -}}
{{- $r -}}
{{- end -}}

{{/* standalone, sentinel or cluster, from the topology; fails on impossible ones. */}}
{{- define "valkey.mode" -}}
{{- $m := include "valkey.masters" . | atoi -}}
{{- $r := include "valkey.replicasPerMaster" . | atoi -}}
{{- if eq $m 1 -}}
{{- if eq $r 0 }}standalone{{ else }}sentinel{{ end -}}
{{- else if ge $m 3 -}}
cluster
{{- else if eq $m 2 -}}
{{- fail "cluster.masters: 2 is refused: two primaries cannot form a failover majority; use 1 (standalone or Sentinel) or at least 3 (cluster mode)" -}}
{{- else -}}
{{- fail (printf "cluster.masters must be 1 (standalone or Sentinel) or at least 3 (cluster mode), got %d" $m) -}}
{{- end -}}
{{- end -}}

{{/* Pods of the StatefulSet: masters x (1 + replicasPerMaster). */}}
{{- define "valkey.podCount" -}}
{{- $m := include "valkey.masters" . | atoi -}}
{{- $r := include "valkey.replicasPerMaster" . | atoi -}}
{{- mul $m (add 1 $r) -}}
{{- end -}}

{{/* "" (none), rdb, aof or rdb,aof; "~" and null mean none. */}}
{{- define "valkey.persistence" -}}
{{- $p := .Values.persistence | default "" | toString | trim -}}
{{- if eq $p "~" }}{{ $p = "" }}{{ end -}}
{{- if not (has $p (list "" "rdb" "aof" "rdb,aof")) -}}
{{- fail (printf "persistence %q is unknown: use ~ (none), rdb, aof or rdb,aof" $p) -}}
{{- end -}}
{{- $p -}}
{{- end -}}

{{/* Checks of values that no single template owns; included by the StatefulSet. */}}
{{- define "valkey.validate" -}}
{{- $mode := include "valkey.mode" . -}}
{{- $_ := include "valkey.persistence" . -}}
{{- if not (.Values.image | default "" | toString | trim) -}}
{{- fail "image is required: set it to the Valkey image built from valkey-image/ (repository:tag)" -}}
{{- end -}}
{{- if and (ne $mode "standalone") (not (.Values.cluster.reconcilerImage | default "" | toString | trim)) -}}
{{- fail (printf "cluster.reconcilerImage is required in %s mode: set it to the reconciler image (repository:tag)" $mode) -}}
{{- end -}}
{{- if .Values.credentials.secret -}}
{{- if or (not .Values.credentials.dataKeys.adminPassword) (not .Values.credentials.dataKeys.clientPassword) -}}
{{- fail (printf "credentials.secret %q is set, so credentials.dataKeys.adminPassword and credentials.dataKeys.clientPassword must name its keys" (toString .Values.credentials.secret)) -}}
{{- end -}}
{{- end -}}
{{- if not (has (toString .Values.hooks.restartPolicy) (list "OnFailure" "Never")) -}}
{{- fail (printf "hooks.restartPolicy must be OnFailure or Never, got %q" (toString .Values.hooks.restartPolicy)) -}}
{{- end -}}
{{- $_ := include "valkey.rotationGracePeriod" . -}}
{{- include "valkey.validateMetrics" . -}}
{{- include "valkey.validateTls" . -}}
{{- if and (eq $mode "cluster") (or .Values.externalAccess.service.enabled .Values.externalAccess.ingressNginxTcp.enabled) -}}
{{- fail "externalAccess is not available in cluster mode: cluster clients must reach every node by its announced name" -}}
{{- end -}}
{{- if not (has (toString .Values.externalAccess.service.type) (list "LoadBalancer" "NodePort")) -}}
{{- fail (printf "externalAccess.service.type must be LoadBalancer or NodePort, got %q" (toString .Values.externalAccess.service.type)) -}}
{{- end -}}
{{- if not (has (toString .Values.podAntiAffinity) (list "soft" "hard" "none")) -}}
{{- fail (printf "podAntiAffinity must be soft, hard or none, got %q" (toString .Values.podAntiAffinity)) -}}
{{- end -}}
{{- end -}}

{{/* Labels that never change for the life of an object: used in selectors. */}}
{{- define "valkey.selectorLabels" -}}
app.kubernetes.io/name: valkey
app.kubernetes.io/instance: {{ include "valkey.fullname" . }}
{{- end -}}

{{- define "valkey.labels" -}}
{{ include "valkey.selectorLabels" . }}
app.kubernetes.io/part-of: valkey
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/*
Labels of the data pods' template: no chart or app version, which would make
every chart upgrade restart every pod even when nothing the pods run changed.
*/}}
{{- define "valkey.dataPodLabels" -}}
{{ include "valkey.dataSelectorLabels" . }}
app.kubernetes.io/part-of: valkey
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector of the data pods (also VALKEY_POD_SELECTOR of the reconciler). */}}
{{- define "valkey.dataSelectorLabels" -}}
{{ include "valkey.selectorLabels" . }}
app.kubernetes.io/component: valkey
{{- end -}}

{{- define "valkey.reconcilerSelectorLabels" -}}
{{ include "valkey.selectorLabels" . }}
app.kubernetes.io/component: reconciler
{{- end -}}

{{- define "valkey.podSelectorString" -}}
app.kubernetes.io/name=valkey,app.kubernetes.io/instance={{ include "valkey.fullname" . }},app.kubernetes.io/component=valkey
{{- end -}}

{{- define "valkey.credentialsSecret" -}}
{{- .Values.credentials.secret | default (printf "%s-credentials" (include "valkey.fullname" .)) -}}
{{- end -}}

{{- define "valkey.internalSecret" -}}
{{- printf "%s-internal" (include "valkey.fullname" .) -}}
{{- end -}}

{{- define "valkey.headlessDomain" -}}
{{- printf "%s-headless.%s.svc.%s" (include "valkey.fullname" .) (include "valkey.namespace" .) .Values.clusterDomain -}}
{{- end -}}

{{/*
Sentinel quorum (Sentinels that must agree the primary is down): the value when
set, else 2. Not a majority of the pods on purpose: the pod template must not
change with the pod count (a changed template restarts every pod), and the
failover itself always needs the votes of a majority of all Sentinels anyway.
*/}}
{{- define "valkey.sentinelQuorum" -}}
{{- if and (not (kindIs "invalid" .Values.sentinel.quorum)) (ne (toString .Values.sentinel.quorum) "") -}}
{{- $pods := include "valkey.podCount" . | atoi -}}
{{- $q := include "valkey.int" (dict "value" .Values.sentinel.quorum "key" "sentinel.quorum" "min" 1) | atoi -}}
{{- if gt $q $pods -}}
{{- fail (printf "sentinel.quorum %d is more than the %d Sentinels (one per pod): no failover could ever start" $q $pods) -}}
{{- end -}}
{{- $q -}}
{{- else -}}
2
{{- end -}}
{{- end -}}

{{- define "valkey.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
fsGroup: {{ .uid }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "valkey.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Environment of the hook Jobs: the reconciler's, the admin password from the Secret (a Job is short-lived). */}}
{{- define "valkey.reconcilerEnv" -}}
{{ include "valkey.reconcilerCommonEnv" . }}
- name: VALKEY_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "valkey.credentialsSecret" . }}
      key: {{ .Values.credentials.dataKeys.adminPassword }}
{{- end -}}

{{/* Environment shared by the reconciler Deployment and the hook Jobs, without the password. */}}
{{- define "valkey.reconcilerCommonEnv" -}}
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
# The reconciler's identity in the leader Lease and in the Events it records.
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: VALKEY_POD_SELECTOR
  value: {{ include "valkey.podSelectorString" . | quote }}
- name: VALKEY_PORT
  value: "6379"
- name: VALKEY_USERNAME
  value: admin
- name: HTTP_PORT
  value: "8080"
{{- include "valkey.tlsClientEnv" . }}
{{- end -}}

{{- define "valkey.clusterTopologyEnv" -}}
- name: VALKEY_CLUSTER_MASTERS
  value: {{ include "valkey.masters" . | quote }}
- name: VALKEY_CLUSTER_REPLICAS_PER_MASTER
  value: {{ include "valkey.replicasPerMaster" . | quote }}
{{- end -}}


{{/* Environment of every container of a data pod (image interface, config/README.md). */}}
{{- define "valkey.podEnv" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: VALKEY_MODE
  value: {{ include "valkey.mode" . }}
# The other pods are found through the headless Service when needed: no list of
# them here, so a change of pod count leaves the pod template as it is.
- name: VALKEY_PEERS_SERVICE
  value: {{ include "valkey.headlessDomain" . | quote }}
- name: VALKEY_ANNOUNCE_HOSTNAME
  value: {{ printf "$(POD_NAME).%s" (include "valkey.headlessDomain" .) | quote }}
- name: VALKEY_PORT
  value: "6379"
- name: VALKEY_DATA_DIR
  value: /data
- name: VALKEY_RUN_DIR
  value: /run/valkey
{{- include "valkey.tlsPodEnv" . }}
{{- end -}}

{{/*
Passwords of the ACL users, from Secrets. Both containers of a data pod get
them: the entrypoint checks the required ones whatever the role.
*/}}
{{- define "valkey.passwordEnv" -}}
- name: VALKEY_ADMIN_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "valkey.credentialsSecret" . }}
      key: {{ .Values.credentials.dataKeys.adminPassword }}
- name: VALKEY_CLIENT_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "valkey.credentialsSecret" . }}
      key: {{ .Values.credentials.dataKeys.clientPassword }}
- name: VALKEY_REPLICATION_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "valkey.internalSecret" . }}
      key: replicationPassword
{{- end -}}

{{/* Sentinel password (users.acl always names the internal user) and, in Sentinel mode, where Sentinel listens. */}}
{{- define "valkey.sentinelEnv" -}}
- name: VALKEY_SENTINEL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "valkey.internalSecret" . }}
      key: sentinelPassword
{{- if eq (include "valkey.mode" .) "sentinel" }}
- name: SENTINEL_PORT
  value: "26379"
- name: SENTINEL_MASTER_NAME
  value: {{ .Values.sentinel.masterName | quote }}
{{- end }}
{{- end -}}

{{- define "valkey.rotationGracePeriod" -}}
{{- include "valkey.int" (dict "value" .Values.credentials.rotationGracePeriodSeconds "key" "credentials.rotationGracePeriodSeconds" "min" 0) -}}
{{- end -}}

{{/*
The passwords as files, one per user (admin, client, replication, sentinel), for
rotation without restarts: the kubelet refreshes a Secret volume in place, the
env of a running container never changes. "users" picks the files a pod gets.
*/}}
{{- define "valkey.credentialsVolume" -}}
{{- $users := .users -}}
{{- with .root -}}
- name: credentials
  projected:
    defaultMode: 0440
    sources:
      {{- if or (has "admin" $users) (has "client" $users) }}
      - secret:
          name: {{ include "valkey.credentialsSecret" . }}
          items:
            {{- if has "admin" $users }}
            - key: {{ .Values.credentials.dataKeys.adminPassword }}
              path: admin
            {{- end }}
            {{- if has "client" $users }}
            - key: {{ .Values.credentials.dataKeys.clientPassword }}
              path: client
            {{- end }}
      {{- end }}
      {{- if or (has "replication" $users) (has "sentinel" $users) }}
      - secret:
          name: {{ include "valkey.internalSecret" . }}
          items:
            {{- if has "replication" $users }}
            - key: replicationPassword
              path: replication
            {{- end }}
            {{- if has "sentinel" $users }}
            - key: sentinelPassword
              path: sentinel
            {{- end }}
      {{- end }}
{{- end -}}
{{- end -}}

{{- define "valkey.credentialsVolumeMount" -}}
- name: credentials
  mountPath: /etc/valkey/credentials
  readOnly: true
{{- end -}}

{{/*
Sidecar of every data pod: follows a change of the mounted passwords in place
(valkey-entrypoint watch-credentials, valkey-image/README.md).
*/}}
{{- define "valkey.credentialsContainer" -}}
- name: credentials
  image: {{ .Values.image }}
  imagePullPolicy: {{ .Values.imagePullPolicy }}
  command: [valkey-entrypoint]
  args: [watch-credentials]
  env:
    {{- include "valkey.podEnv" . | nindent 4 }}
    {{- include "valkey.passwordEnv" . | nindent 4 }}
    {{- include "valkey.sentinelEnv" . | nindent 4 }}
    - name: VALKEY_ROTATION_GRACE_SECONDS
      value: {{ include "valkey.rotationGracePeriod" . | quote }}
  resources:
    {{- toYaml .Values.credentials.watcherResources | nindent 4 }}
  securityContext:
    {{- include "valkey.containerSecurityContext" . | nindent 4 }}
  volumeMounts:
    {{- include "valkey.credentialsVolumeMount" . | nindent 4 }}
    {{- with include "valkey.tlsPodVolumeMount" . }}{{ . | nindent 4 }}{{ end }}
{{- end -}}

{{/* RBAC rules shared by the reconciler and the hook Jobs. */}}
{{- define "valkey.reconcilerRules" -}}
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch, patch]
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- end -}}

{{/*
"true" when the reconciler writes the primary Service's EndpointSlice (Sentinel mode,
sentinel.primaryEndpoints reconciler, or auto on a new installation), else empty. auto keeps
what a running installation's <name> Service has (a selector: label), so an upgrade never
switches the route under live clients; it resolves to reconciler on install and in
`helm template`. Refuses an unknown value.
*/}}
{{- define "valkey.primarySliceByReconciler" -}}
{{- $how := .Values.sentinel.primaryEndpoints | default "auto" | toString -}}
{{- if not (has $how (list "auto" "label" "reconciler")) -}}
{{- fail (printf "sentinel.primaryEndpoints: '%s' is not auto, label or reconciler" $how) -}}
{{- end -}}
{{- if eq $how "auto" -}}
{{- $service := lookup "v1" "Service" (include "valkey.namespace" .) (include "valkey.fullname" .) | default dict -}}
{{- $how = ternary "label" "reconciler" (not (empty (dig "spec" "selector" dict $service))) -}}
{{- end -}}
{{- if and (eq $how "reconciler") (eq (include "valkey.mode" .) "sentinel") -}}
true
{{- end -}}
{{- end -}}

{{- define "valkey.hookRbacAnnotations" -}}
helm.sh/hook: post-install,pre-upgrade,post-upgrade
helm.sh/hook-weight: {{ .weight | quote }}
helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
{{- end -}}

{{/* Digest of the shipped config templates: a change rolls the data pods. */}}
{{- define "valkey.configChecksum" -}}
{{- $all := "" -}}
{{- range $path, $_ := .Files.Glob "files/config/*" -}}
{{- $all = print $all $path "\x00" ($.Files.Get $path) "\x00" -}}
{{- end -}}
{{- sha256sum $all -}}
{{- end -}}

{{/*
Changes a running installation cannot take, found by looking up its
StatefulSet (nothing to compare on install or in `helm template`).
*/}}
{{- define "valkey.validateUpgrade" -}}
{{- $existing := lookup "apps/v1" "StatefulSet" (include "valkey.namespace" .) (include "valkey.fullname" .) | default dict -}}
{{- if $existing -}}
{{- $mode := include "valkey.mode" . -}}
{{- $was := dig "metadata" "labels" "valkey.io/mode" "" $existing -}}
{{- if and $was (ne $was $mode) -}}
{{- if or (eq $was "cluster") (eq $mode "cluster") -}}
{{- fail (printf "cannot change from %s mode to %s mode in place: the data layout differs; install a new release and migrate the data" $was $mode) -}}
{{- else -}}
{{- fail (printf "cannot change from %s mode to %s mode in place: the data pods would restart with a new layout and, without persistence, lose their data; install a new %s release and migrate the data (REPLICAOF from the old primary)" $was $mode $mode) -}}
{{- end -}}
{{- end -}}
{{- $masters := include "valkey.masters" . -}}
{{- $replicas := include "valkey.replicasPerMaster" . -}}
{{- $wasMasters := dig "metadata" "labels" "valkey.io/masters" $masters $existing | toString -}}
{{- $wasReplicas := dig "metadata" "labels" "valkey.io/replicas-per-master" $replicas $existing | toString -}}
{{- $changed := or (ne $wasMasters $masters) (ne $wasReplicas $replicas) -}}
{{- if and (eq $mode "cluster") (ne $wasMasters $masters) (ne $wasReplicas $replicas) -}}
{{- fail (printf "cluster.masters (%s -> %s) and cluster.replicasPerMaster (%s -> %s) cannot change in the same upgrade: the scale-down and scale-up steps each move one of them safely; change one, then the other" $wasMasters $masters $wasReplicas $replicas) -}}
{{- end -}}
{{- if $changed -}}
{{- $want := dig "spec" "replicas" 0 $existing | int -}}
{{- $ready := dig "status" "readyReplicas" 0 $existing | int -}}
{{- $current := dig "status" "currentRevision" "" $existing -}}
{{- $update := dig "status" "updateRevision" "" $existing -}}
{{- if or (ne $ready $want) (ne $current $update) -}}
{{- fail (printf "refusing to change the topology (masters %s -> %s, replicasPerMaster %s -> %s) while StatefulSet %s is not settled (%d of %d pods ready%s): a pod that is not in sync may hold the only copy of some data; wait until every pod is ready, then upgrade" $wasMasters $masters $wasReplicas $replicas (include "valkey.fullname" .) $ready $want (ternary "" ", a rolling update in progress" (eq $current $update))) -}}
{{- end -}}
{{- end -}}
{{- $hadVolumes := gt (len (dig "spec" "volumeClaimTemplates" list $existing)) 0 -}}
{{- $wantVolumes := ne (include "valkey.persistence" .) "" -}}
{{- if ne $hadVolumes $wantVolumes -}}
{{- fail (printf "persistence cannot switch between ~ and a persistent mode on an existing installation (StatefulSet volume claims are immutable): keep persistence %s, or install a new release" (ternary "rdb, aof or rdb,aof" "~" $hadVolumes)) -}}
{{- end -}}
{{- if $hadVolumes -}}
{{- $claim := index (dig "spec" "volumeClaimTemplates" list $existing) 0 -}}
{{- $size := dig "spec" "resources" "requests" "storage" "" $claim -}}
{{- if and $size (ne (toString $size) (toString .Values.storage.size)) -}}
{{- fail (printf "storage.size cannot change from %s to %s on an existing installation (StatefulSet volume claims are immutable): keep %s and expand the PersistentVolumeClaims themselves if the StorageClass allows it" $size (toString .Values.storage.size) $size) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
