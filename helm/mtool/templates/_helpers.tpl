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

{{/* A measuring pod (campaign, helm test) needs no volume for corrections: the correlator
     listens on an abstract socket inside the pod's own network namespace. Only with
     correlatorSocketFromHost (for a correlator under leastPrivilege) does it mount the host's
     socket directory, read-only: a hostPath, which Pod Security `baseline` already refuses. */}}
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

{{- define "mtool.measuringEnv" -}}
- name: MTOOL_CORRELATOR_SOCKET
  value: {{ .Values.hostPaths.socketDir }}/correlator.sock
{{- end -}}

{{/* A measuring container, Pod Security `restricted`: non-root, RuntimeDefault seccomp, no
     privilege escalation, no capability (ping and ICMP/UDP traceroutes use ICMP datagram and
     UDP sockets; the pod opens net.ipv4.ping_group_range). Set here, not only in
     podSecurityContext, so that values cannot drop them by replacing that map.
     With netRaw (campaign.tcpTraceroute): CAP_NET_RAW for TCP traceroutes' raw socket, which
     uid 10001 gets from the image's cap_net_raw+p file capability only if execve may grant it,
     i.e. without no_new_privs: allowPrivilegeEscalation true. Pod Security `privileged`. */}}
{{- define "mtool.measuringSecurityContext" -}}
runAsNonRoot: true
readOnlyRootFilesystem: true
seccompProfile:
  type: RuntimeDefault
{{- if .netRaw }}
allowPrivilegeEscalation: true
capabilities:
  drop: [ALL]
  add: [NET_RAW]
{{- else }}
allowPrivilegeEscalation: false
capabilities:
  drop: [ALL]
{{- end }}
{{- end -}}

{{/* Unprivileged ICMP sockets (ping, traceroute -I) for every group: a safe sysctl, allowed by
     every Pod Security level. It covers ICMPv6 datagram sockets too (Linux has no
     net.ipv6 counterpart, and Kubernetes' safe set no IPv6 sysctl). */}}
{{- define "mtool.measuringSysctls" -}}
sysctls:
  - name: net.ipv4.ping_group_range
    value: "0 2147483647"
{{- end -}}

{{/* The campaign pods' labels that tell one campaign's pods from any other pod. */}}
{{- define "mtool.campaignSelector" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: campaign
{{- end -}}

{{/* Affinity of a campaign pod: the user's campaign.affinity, plus (unless it has its own
     podAntiAffinity, or campaign.spread is none) an anti-affinity that keeps the campaign's
     pods running at once on distinct values of campaign.spreadBy. The scheduler ignores
     finished pods, so a CronJob's next run is not kept off the nodes of the last one. */}}
{{- define "mtool.campaignAffinity" -}}
{{- $affinity := dict -}}
{{- range $kind, $rule := .Values.campaign.affinity -}}
{{- $_ := set $affinity $kind $rule -}}
{{- end -}}
{{- if and (ne .Values.campaign.spread "none") (not (hasKey $affinity "podAntiAffinity")) -}}
{{- $term := dict "topologyKey" .Values.campaign.spreadBy "labelSelector" (dict "matchLabels" (include "mtool.campaignSelector" . | fromYaml)) -}}
{{- if eq .Values.campaign.spread "required" -}}
{{- $_ := set $affinity "podAntiAffinity" (dict "requiredDuringSchedulingIgnoredDuringExecution" (list $term)) -}}
{{- else -}}
{{- $_ := set $affinity "podAntiAffinity" (dict "preferredDuringSchedulingIgnoredDuringExecution" (list (dict "weight" 100 "podAffinityTerm" $term))) -}}
{{- end -}}
{{- end -}}
{{- if $affinity -}}
{{- toYaml $affinity -}}
{{- end -}}
{{- end -}}

{{/* Where Prometheus scrapes a pod that serves metrics on .port (metrics.annotations). */}}
{{- define "mtool.scrapeAnnotations" -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end -}}
