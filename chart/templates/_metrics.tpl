{{/*
Metrics: the exporter sidecar of the data pods, the labels every scrape
target gets (ServiceMonitor relabelings; files/monitoring/prometheus-scrape.yaml
does the same for a Prometheus without the operator), the renaming of the
labelled pod's series (metrics-primary-service.yaml) and the checks of the
metrics.* values.

TLS (tls.enabled): the exporter reads its own pod's server over rediss:// by the
pod's stable name (which the certificate names), verifies it against ca.crt of
the mounted TLS Secret and presents the server's certificate when servers ask
for client certificates; valkey.validateTls refuses a Secret without ca.crt.
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

{{/* The exporter's address of the valkey container (TLS: rediss:// and the certificates). */}}
{{- define "valkey.metricsAddressEnv" -}}
{{- if include "valkey.tlsEnabled" . -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: REDIS_ADDR
  value: {{ printf "rediss://$(POD_NAME).%s:6379" (include "valkey.headlessDomain" .) | quote }}
- name: REDIS_EXPORTER_TLS_CA_CERT_FILE
  value: /etc/valkey/tls/ca.crt
{{- if ne (include "valkey.tlsAuthClients" .) "no" }}
- name: REDIS_EXPORTER_TLS_CLIENT_CERT_FILE
  value: /etc/valkey/tls/tls.crt
- name: REDIS_EXPORTER_TLS_CLIENT_KEY_FILE
  value: /etc/valkey/tls/tls.key
{{- end }}
{{- else -}}
- name: REDIS_ADDR
  value: redis://localhost:6379
{{- end }}
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
  {{- if include "valkey.tlsEnabled" . }}
  # Readable through the pod's fsGroup (999), which this container's user also has.
  volumeMounts:
    {{- with include "valkey.tlsPodVolumeMount" . }}{{ . | nindent 4 }}{{ end }}
  {{- end }}
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
