{{/* The pod of a campaign run, shared by the Job and the CronJob. */}}
{{- define "mtool.campaignPod" -}}
metadata:
  labels:
    {{- include "mtool.labels" . | nindent 4 }}
    app.kubernetes.io/component: campaign
spec:
  restartPolicy: Never
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  securityContext:
    {{- toYaml .Values.podSecurityContext | nindent 4 }}
    {{- include "mtool.measuringSysctls" . | nindent 4 }}
  containers:
    - name: campaign
      image: {{ include "mtool.image" . }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args:
        - run
        - --pps={{ .Values.campaign.pps }}
        - --concurrency={{ .Values.campaign.concurrency }}
        - --from=$(NODE_IP)
        {{- if .Values.campaign.prbId }}
        - --prb-id={{ .Values.campaign.prbId }}
        {{- end }}
        {{- if .Values.campaign.breakdown }}
        - --breakdown
        {{- end }}
        {{- if eq .Values.campaign.output.type "volume" }}
        - --out={{ .Values.campaign.output.path }}/$(POD_NAME).jsonl
        {{- end }}
        - /etc/mtool/measurements.json
      env:
        - name: NODE_IP
          valueFrom: {fieldRef: {fieldPath: status.hostIP}}
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        {{- if .Values.correlatorSocketFromHost }}
        {{- include "mtool.measuringEnv" . | nindent 8 }}
        {{- end }}
        {{- if not .Values.campaign.prbId }}
        # Each vantage point's own prb_id: its index in the (indexed) Job.
        - name: MTOOL_PRB_ID
          valueFrom: {fieldRef: {fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}
        {{- end }}
      securityContext:
        {{- include "mtool.measuringSecurityContext" (dict "netRaw" .Values.campaign.tcpTraceroute) | nindent 8 }}
      resources:
        {{- toYaml .Values.campaign.resources | nindent 8 }}
      volumeMounts:
        {{- if .Values.correlatorSocketFromHost }}
        {{- include "mtool.measuringVolumeMounts" . | nindent 8 }}
        {{- end }}
        - name: measurements
          mountPath: /etc/mtool
          readOnly: true
        {{- if eq .Values.campaign.output.type "volume" }}
        - name: results
          mountPath: {{ .Values.campaign.output.path }}
        {{- end }}
  volumes:
    {{- if .Values.correlatorSocketFromHost }}
    {{- include "mtool.measuringVolumes" . | nindent 4 }}
    {{- end }}
    - name: measurements
      configMap:
        name: {{ include "mtool.fullname" . }}-campaign
    {{- if eq .Values.campaign.output.type "volume" }}
    - name: results
      persistentVolumeClaim:
        claimName: {{ required "campaign.output.persistentVolumeClaim is required when output.type is volume" .Values.campaign.output.persistentVolumeClaim }}
    {{- end }}
  {{- with .Values.campaign.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with include "mtool.campaignAffinity" . }}
  affinity:
    {{- . | nindent 4 }}
  {{- end }}
  {{- with .Values.campaign.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.campaign.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}

{{- define "mtool.campaignJobSpec" -}}
completions: {{ .Values.campaign.completions }}
parallelism: {{ .Values.campaign.parallelism }}
completionMode: Indexed
backoffLimit: {{ .Values.campaign.backoffLimit }}
activeDeadlineSeconds: {{ .Values.campaign.activeDeadlineSeconds }}
template:
  {{- include "mtool.campaignPod" . | nindent 2 }}
{{- end -}}
