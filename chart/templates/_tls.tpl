{{/*
TLS: which Secrets hold the certificates, the refusals of impossible tls.*
combinations, and the environment and volumes every TLS client and server of
the chart gets. The data pods mount the server Secret whole at /etc/valkey/tls
(their probes and exporter present the server's own certificate); the other
clients (reconciler, hook Jobs, helm test) mount only its ca.crt and, when
clients must authenticate, the client Secret.
*/}}

{{- define "valkey.tlsEnabled" -}}
{{- if .Values.tls.enabled }}true{{ end -}}
{{- end -}}

{{/* tls.authClients as no, optional or yes (a bare YAML no/yes arrives as a boolean). */}}
{{- define "valkey.tlsAuthClients" -}}
{{- $a := .Values.tls.authClients -}}
{{- if kindIs "bool" $a -}}{{- $a = ternary "yes" "no" $a -}}{{- end -}}
{{- $a = $a | default "no" | toString -}}
{{- if not (has $a (list "no" "optional" "yes")) -}}
{{- fail (printf "tls.authClients must be no, optional or yes, got %q" $a) -}}
{{- end -}}
{{- $a -}}
{{- end -}}

{{- define "valkey.tlsIssuer" -}}
{{- .Values.tls.certManager.issuerRef.name | default "" | toString | trim -}}
{{- end -}}

{{/* The Secret with the server certificate: tls.existingSecret, or the one cert-manager writes. */}}
{{- define "valkey.tlsSecret" -}}
{{- .Values.tls.existingSecret | default (printf "%s-tls" (include "valkey.fullname" .)) -}}
{{- end -}}

{{/* The Secret with the chart's own client certificate; empty when clients need none. */}}
{{- define "valkey.tlsClientSecret" -}}
{{- if and (include "valkey.tlsEnabled" .) (eq (include "valkey.tlsAuthClients" .) "yes") -}}
{{- .Values.tls.clientSecret | default (ternary (printf "%s-tls-client" (include "valkey.fullname" .)) "" (ne (include "valkey.tlsIssuer" .) "")) -}}
{{- end -}}
{{- end -}}

{{/* Refusals of tls.*; included by valkey.validate. Secrets are looked up (nothing to look up in helm template). */}}
{{- define "valkey.validateTls" -}}
{{- $t := .Values.tls -}}
{{- $auth := include "valkey.tlsAuthClients" . -}}
{{- $issuer := include "valkey.tlsIssuer" . -}}
{{- if $t.enabled -}}
{{- if and (not $t.existingSecret) (not $issuer) -}}
{{- fail "tls.enabled needs a certificate: set tls.existingSecret (a kubernetes.io/tls Secret with tls.crt, tls.key and ca.crt) or tls.certManager.issuerRef.name (the chart then creates a cert-manager Certificate)" -}}
{{- end -}}
{{- if and $t.existingSecret $issuer -}}
{{- fail (printf "tls.existingSecret %q and tls.certManager.issuerRef.name %q are both set: use one of them" (toString $t.existingSecret) $issuer) -}}
{{- end -}}
{{- if and $issuer (not (has (toString $t.certManager.issuerRef.kind) (list "Issuer" "ClusterIssuer"))) -}}
{{- fail (printf "tls.certManager.issuerRef.kind must be Issuer or ClusterIssuer, got %q" (toString $t.certManager.issuerRef.kind)) -}}
{{- end -}}
{{- if and $issuer (not (.Capabilities.APIVersions.Has "cert-manager.io/v1/Certificate")) -}}
{{- fail "tls.certManager.issuerRef.name needs the cert-manager Certificate CRD (cert-manager.io/v1), which this cluster does not serve: install cert-manager first, or make the Secret yourself and set tls.existingSecret" -}}
{{- end -}}
{{- if and (eq $auth "yes") (not $t.clientSecret) (not $issuer) -}}
{{- fail "tls.authClients yes needs a client certificate for the chart's own clients (reconciler, hook Jobs, helm test): set tls.clientSecret (a kubernetes.io/tls Secret signed by the same CA) or use tls.certManager.issuerRef.name" -}}
{{- end -}}
{{- if $t.existingSecret -}}
{{- $s := lookup "v1" "Secret" (include "valkey.namespace" .) (toString $t.existingSecret) | default dict -}}
{{- if $s -}}
{{- range $key := list "tls.crt" "tls.key" "ca.crt" -}}
{{- if not (dig "data" $key "" $s) -}}
{{- fail (printf "tls.existingSecret %q has no %s: it needs tls.crt, tls.key and ca.crt (the servers, probes, reconciler and metrics exporter verify certificates against ca.crt)" (toString $t.existingSecret) $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and $t.clientSecret (eq $auth "yes") -}}
{{- $s := lookup "v1" "Secret" (include "valkey.namespace" .) (toString $t.clientSecret) | default dict -}}
{{- if $s -}}
{{- range $key := list "tls.crt" "tls.key" -}}
{{- if not (dig "data" $key "" $s) -}}
{{- fail (printf "tls.clientSecret %q has no %s: the chart's clients present tls.crt with tls.key" (toString $t.clientSecret) $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- else if or $t.existingSecret $issuer $t.clientSecret -}}
{{- fail "tls.existingSecret, tls.certManager.issuerRef.name or tls.clientSecret is set but tls.enabled is false: set tls.enabled=true to use TLS" -}}
{{- end -}}
{{- end -}}

{{/* Environment of the containers of a data pod (config/README.md: image interface). */}}
{{- define "valkey.tlsPodEnv" -}}
{{- if include "valkey.tlsEnabled" . }}
- name: VALKEY_TLS
  value: "true"
- name: VALKEY_TLS_CERT_FILE
  value: /etc/valkey/tls/tls.crt
- name: VALKEY_TLS_KEY_FILE
  value: /etc/valkey/tls/tls.key
- name: VALKEY_TLS_CA_FILE
  value: /etc/valkey/tls/ca.crt
- name: VALKEY_TLS_AUTH_CLIENTS
  value: {{ include "valkey.tlsAuthClients" . | quote }}
{{- end }}
{{- end -}}

{{- define "valkey.tlsPodVolumeMount" -}}
{{- if include "valkey.tlsEnabled" . -}}
- name: tls
  mountPath: /etc/valkey/tls
  readOnly: true
{{- end }}
{{- end -}}

{{- define "valkey.tlsPodVolume" -}}
{{- if include "valkey.tlsEnabled" . -}}
# Updated in place by the kubelet when the Secret changes; Valkey reloads it.
- name: tls
  secret:
    secretName: {{ include "valkey.tlsSecret" . }}
    defaultMode: 0440
{{- end }}
{{- end -}}

{{/* TLS environment of the reconciler and the hook Jobs (reconciler/README.md). */}}
{{- define "valkey.tlsClientEnv" -}}
{{- if include "valkey.tlsEnabled" . }}
- name: VALKEY_TLS
  value: "true"
- name: VALKEY_TLS_CA_FILE
  value: /etc/valkey/tls-ca/ca.crt
{{- if include "valkey.tlsClientSecret" . }}
- name: VALKEY_TLS_CERT_FILE
  value: /etc/valkey/tls-client/tls.crt
- name: VALKEY_TLS_KEY_FILE
  value: /etc/valkey/tls-client/tls.key
{{- end }}
# Nodes are reached by their stable names <pod>.<name>-headless.<namespace>.svc.<domain>.
- name: CLUSTER_DOMAIN
  value: {{ .Values.clusterDomain | quote }}
{{- end }}
{{- end -}}

{{- define "valkey.tlsClientVolumeMounts" -}}
{{- if include "valkey.tlsEnabled" . -}}
- name: tls-ca
  mountPath: /etc/valkey/tls-ca
  readOnly: true
{{- if include "valkey.tlsClientSecret" . }}
- name: tls-client
  mountPath: /etc/valkey/tls-client
  readOnly: true
{{- end }}
{{- end }}
{{- end -}}

{{/* Only ca.crt of the server Secret: clients never get the server's private key. */}}
{{- define "valkey.tlsClientVolumes" -}}
{{- if include "valkey.tlsEnabled" . -}}
- name: tls-ca
  secret:
    secretName: {{ include "valkey.tlsSecret" . }}
    items:
      - key: ca.crt
        path: ca.crt
    defaultMode: 0440
{{- if include "valkey.tlsClientSecret" . }}
- name: tls-client
  secret:
    secretName: {{ include "valkey.tlsClientSecret" . }}
    defaultMode: 0440
{{- end }}
{{- end }}
{{- end -}}

{{/* The names the server certificate carries (cert-manager Certificate). */}}
{{- define "valkey.tlsDnsNames" -}}
{{- $name := include "valkey.fullname" . -}}
{{- $ns := include "valkey.namespace" . -}}
{{- $names := list -}}
{{- range $svc := list $name (printf "%s-headless" $name) (printf "%s-sentinel" $name) (printf "%s-replicas" $name) -}}
{{- $names = concat $names (list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.%s" $svc $ns $.Values.clusterDomain)) -}}
{{- end -}}
{{- $names = concat $names (list (printf "*.%s-headless.%s.svc.%s" $name $ns .Values.clusterDomain) (printf "*.%s-headless.%s.svc" $name $ns) "localhost") -}}
{{- toYaml $names -}}
{{- end -}}

{{/* valkey-cli options of the helm test pod. */}}
{{- define "valkey.testCliFlags" -}}
{{- $flags := list -}}
{{- if eq (include "valkey.mode" .) "cluster" }}{{ $flags = append $flags "-c" }}{{ end -}}
{{- if include "valkey.tlsEnabled" . -}}
{{- $flags = append $flags "--tls --cacert /etc/valkey/tls-ca/ca.crt" -}}
{{- if include "valkey.tlsClientSecret" . -}}
{{- $flags = append $flags "--cert /etc/valkey/tls-client/tls.crt --key /etc/valkey/tls-client/tls.key" -}}
{{- end -}}
{{- end -}}
{{- join " " $flags -}}
{{- end -}}
