{{/*
Metrics: the exporter sidecar of the data pods, the labels every scrape
target gets (ServiceMonitor relabelings; files/monitoring/prometheus-scrape.yaml
does the same for a Prometheus without the operator), the renaming of the
labelled pod's series (metrics-primary-service.yaml) and the checks of the
metrics.* values.

TLS: the chart has no tls.* values yet. When they come, the exporter needs
REDIS_ADDR rediss://localhost:6379 and REDIS_EXPORTER_TLS_CA_CERT_FILE (plus
REDIS_EXPORTER_TLS_CLIENT_CERT_FILE / _KEY_FILE when tls.authClients is yes)
pointing into the mounted tls.existingSecret, and valkey.validateMetrics a
check that the Secret has ca.crt: valkey.metricsAddressEnv is the one place.
*/}}

{{/* Refusals of impossible metrics.* combinations; included by valkey.validate. */}}
{{- define "valkey.validateMetrics" -}}
{{- $m := .Values.metrics -}}
{{- if and $m.enabled (not ($m.image | default "" | toString | trim)) -}}
{{- fail "metrics.image is empty but metrics.enabled is true: set metrics.image to the exporter image built from exporter-image/ (repository:tag, e.g. localhost:5000/valkey-k8s/redis-exporter:0.2.0)" -}}
{{- end -}}
{{- if and $m.serviceMonitor.enabled (not $m.enabled) -}}
{{- fail "metrics.serviceMonitor.enabled needs metrics.enabled: the ServiceMonitor scrapes the exporter sidecar" -}}
{{- end -}}
{{- if and $m.prometheusRule.enabled (not $m.enabled) -}}
{{- fail "metrics.prometheusRule.enabled needs metrics.enabled: the rules read the exporter's and the reconciler's metrics" -}}
{{- end -}}
{{- if and $m.serviceMonitor.enabled (not (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1/ServiceMonitor")) -}}
{{- fail "metrics.serviceMonitor.enabled needs the ServiceMonitor CRD (monitoring.coreos.com/v1, prometheus-operator), which this cluster does not serve: install prometheus-operator first, or leave it off and scrape with files/monitoring/prometheus-scrape.yaml" -}}
{{- end -}}
{{- if and $m.prometheusRule.enabled (not (.Capabilities.APIVersions.Has "monitoring.coreos.com/v1/PrometheusRule")) -}}
{{- fail "metrics.prometheusRule.enabled needs the PrometheusRule CRD (monitoring.coreos.com/v1, prometheus-operator), which this cluster does not serve: install prometheus-operator first, or leave it off and load files/monitoring/valkey-rules.yaml into Prometheus" -}}
{{- end -}}
{{- end -}}

{{/* The exporter's address of the valkey container (TLS: rediss://). */}}
{{- define "valkey.metricsAddressEnv" -}}
- name: REDIS_ADDR
  value: redis://localhost:6379
{{- end -}}

{{/* The exporter sidecar of every data pod (a list item of containers). */}}
{{- define "valkey.metricsContainer" -}}
- name: metrics
  image: {{ .Values.metrics.image | toString | trim }}
  imagePullPolicy: {{ .Values.imagePullPolicy }}
  env:
    {{- include "valkey.metricsAddressEnv" . | nindent 4 }}
    - name: REDIS_USER
      value: admin
    - name: REDIS_PASSWORD
      valueFrom:
        secretKeyRef:
          name: {{ include "valkey.credentialsSecret" . }}
          key: {{ .Values.credentials.dataKeys.adminPassword }}
    - name: REDIS_EXPORTER_WEB_LISTEN_ADDRESS
      value: ":9121"
    # Fail a scrape fast when valkey hangs, well inside a 10 s scrape timeout.
    - name: REDIS_EXPORTER_CONNECTION_TIMEOUT
      value: 3s
  ports:
    - name: metrics
      containerPort: 9121
  # No readiness probe: the pod's readiness (and so the Services) must never depend
  # on the exporter. A hung exporter is restarted.
  livenessProbe:
    httpGet:
      path: /health
      port: metrics
    periodSeconds: 20
    timeoutSeconds: 3
  resources:
    {{- toYaml .Values.metrics.resources | nindent 4 }}
  securityContext:
    {{- include "valkey.containerSecurityContext" . | nindent 4 }}
    runAsUser: 65532
    runAsGroup: 65532
{{- end -}}

{{/*
Relabelings of every scrape target: which installation and mode it belongs to
(valkey_name, valkey_mode), from the Service's labels. Pod labels are not used:
Prometheus' endpoints discovery does not see them change (see
metrics-primary-service.yaml).
*/}}
{{- define "valkey.metricsRelabelings" -}}
- sourceLabels: [__meta_kubernetes_service_label_app_kubernetes_io_instance]
  targetLabel: valkey_name
- sourceLabels: [__meta_kubernetes_service_label_valkey_io_mode]
  targetLabel: valkey_mode
{{- end -}}

{{/* Scrapes of <name>-metrics-primary: redis_up and redis_instance_info of the labelled pod, renamed. */}}
{{- define "valkey.metricsPrimaryMetricRelabelings" -}}
- sourceLabels: [__name__]
  regex: redis_up|redis_instance_info
  action: keep
- sourceLabels: [__name__]
  regex: redis_up
  targetLabel: __name__
  replacement: valkey_labelled_pod_up
- sourceLabels: [__name__]
  regex: redis_instance_info
  targetLabel: __name__
  replacement: valkey_labelled_pod_info
{{- end -}}
