{{- define "mtool.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "mtool.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "mtool.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The correlator's socket and pins, mounted read-only into a measuring pod: all it needs
     for corrections, no capability and no bpf(). */}}
{{- define "mtool.measuringVolumeMounts" -}}
- name: mtool-socket
  mountPath: {{ .Values.hostPaths.socketDir }}
  readOnly: true
{{- end -}}

{{- define "mtool.measuringVolumes" -}}
- name: mtool-socket
  hostPath:
    path: {{ .Values.hostPaths.socketDir }}
    type: DirectoryOrCreate
{{- end -}}

{{/* A measuring container: non-root, nothing but CAP_NET_RAW (ping's file capability; ICMP
     datagram sockets need none). */}}
{{- define "mtool.measuringSecurityContext" -}}
allowPrivilegeEscalation: true
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
  add: [NET_RAW]
{{- end -}}
