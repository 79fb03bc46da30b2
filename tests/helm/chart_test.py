#!/usr/bin/env python3
"""Renders helm/mtool with tests/helm/render (Helm's template engine and schema validator,
built here with Debian's Go packages) under several value sets and checks the manifests: what
the correlator DaemonSet may do and mount, what a campaign Job runs and where its results go,
the CronJob, the `helm test` hook, the continuous prober and the metrics endpoints (scrape
annotations, PodMonitor/ServiceMonitor, the Grafana dashboard's ConfigMap), every pod against
the Pod Security Standards (a rule table written from the Kubernetes document), the campaign's
distinct vantage points, and that the schema refuses bad values.

    usage: tests/helm/chart_test.py [path/to/render]   (builds the renderer when not given)
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CHART = os.path.join(ROOT, "helm", "mtool")
RENDER = None


def build_renderer(directory):
    env = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode",
               GOCACHE=os.path.join(directory, "gocache"), GOFLAGS="")
    out = os.path.join(directory, "render")
    subprocess.run(["go", "build", "-o", out, "./tests/helm/render"], cwd=ROOT, env=env, check=True)
    return out


def render(*sets, values=None, expect_failure=False):
    """`helm template` with --set assignments and, when given, a values file made of `values`."""
    args = [RENDER]
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
        if values is not None:
            yaml.safe_dump(values, f)
            f.flush()
            args += ["-f", f.name]
        for s in sets:
            args += ["--set", s]
        args.append(CHART)
        r = subprocess.run(args, capture_output=True, text=True)
    if expect_failure:
        assert r.returncode != 0, "rendering should have failed:\n" + r.stdout
        return r.stderr
    assert r.returncode == 0, r.stderr
    return [d for d in yaml.safe_load_all(r.stdout) if d]


def by_kind(docs, kind):
    found = [d for d in docs if d["kind"] == kind]
    assert len(found) == 1, f"{len(found)} {kind}s in {[d['kind'] for d in docs]}"
    return found[0]


def by_component(docs, kind, component):
    """The one manifest of `kind` labelled app.kubernetes.io/component=`component`."""
    found = [d for d in docs if d["kind"] == kind
             and d["metadata"]["labels"].get("app.kubernetes.io/component") == component]
    assert len(found) == 1, f"{len(found)} {kind}s of {component}"
    return found[0]


# --- Pod Security Standards -------------------------------------------------------------------
# The controls of https://kubernetes.io/docs/concepts/security/pod-security-standards/ (Baseline,
# then what Restricted adds), each by its name in that document, with its restricted fields and
# allowed values; the Privileged level is the absence of these rules. Windows-only nuances
# (spec.os.name) do not apply to these Linux pods.

BASELINE_CAPABILITIES = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                         "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
                "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
                "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",  # 1.27+
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",  # 1.29+
                "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"}  # 1.29+
SELINUX_TYPES = {None, "", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
PROFILE_TYPES = {"RuntimeDefault", "Localhost"}
RESTRICTED_VOLUME_TYPES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                           "persistentVolumeClaim", "projected", "secret"}


def _containers(spec):
    """spec.containers[*], spec.initContainers[*], spec.ephemeralContainers[*]."""
    return spec.get("containers", []) + spec.get("initContainers", []) + spec.get("ephemeralContainers", [])


def _pod_sc(spec):
    return spec.get("securityContext") or {}


def _scs(spec):
    """Every container's securityContext (an empty one where it has none)."""
    return [c.get("securityContext") or {} for c in _containers(spec)]


def _caps(sc, field):
    return set((sc.get("capabilities") or {}).get(field) or [])


def _host_fields(c):
    """The host of every probe and lifecycle hook handler of a container."""
    handlers = [c.get(p) or {} for p in ("livenessProbe", "readinessProbe", "startupProbe")]
    handlers += [(c.get("lifecycle") or {}).get(h) or {} for h in ("postStart", "preStop")]
    return [(h.get(kind) or {}).get("host") for h in handlers for kind in ("httpGet", "tcpSocket")]


def _non_root(spec):
    pod, containers = _pod_sc(spec).get("runAsNonRoot"), [sc.get("runAsNonRoot") for sc in _scs(spec)]
    if pod is True:  # the container fields may then be undefined, not false
        return all(v in (None, True) for v in containers)
    return all(v is True for v in containers)


def _restricted_seccomp(spec):
    pod, containers = _profile(_pod_sc(spec)), [_profile(sc) for sc in _scs(spec)]
    if pod in PROFILE_TYPES:  # the container fields may then be undefined
        return all(t is None or t in PROFILE_TYPES for t in containers)
    return pod is None and all(t in PROFILE_TYPES for t in containers)


def _profile(sc, field="seccompProfile"):
    return (sc.get(field) or {}).get("type")


def _apparmor_annotations_ok(meta):
    values = [v for k, v in (meta.get("annotations") or {}).items()
              if k.startswith("container.apparmor.security.beta.kubernetes.io/")]
    return all(v == "runtime/default" or v.startswith("localhost/") for v in values)


# (level, control, check(metadata, spec) -> the pod complies)
PSS_RULES = [
    # Baseline
    ("Baseline", "HostProcess", lambda m, s: all(
        (sc.get("windowsOptions") or {}).get("hostProcess") in (None, False) for sc in [_pod_sc(s)] + _scs(s))),
    ("Baseline", "Host Namespaces", lambda m, s: all(
        s.get(f) in (None, False) for f in ("hostNetwork", "hostPID", "hostIPC"))),
    ("Baseline", "Privileged Containers", lambda m, s: all(sc.get("privileged") in (None, False) for sc in _scs(s))),
    ("Baseline", "Capabilities", lambda m, s: all(_caps(sc, "add") <= BASELINE_CAPABILITIES for sc in _scs(s))),
    ("Baseline", "HostPath Volumes", lambda m, s: all(v.get("hostPath") is None for v in s.get("volumes", []))),
    ("Baseline", "Host Ports", lambda m, s: all(
        p.get("hostPort") in (None, 0) for c in _containers(s) for p in c.get("ports", []))),
    ("Baseline", "Host Probes / Lifecycle Hooks", lambda m, s: all(
        h in (None, "") for c in _containers(s) for h in _host_fields(c))),
    ("Baseline", "AppArmor", lambda m, s: _apparmor_annotations_ok(m) and all(
        _profile(sc, "appArmorProfile") in {None} | PROFILE_TYPES for sc in [_pod_sc(s)] + _scs(s))),
    ("Baseline", "SELinux", lambda m, s: all(
        (sc.get("seLinuxOptions") or {}).get("type") in SELINUX_TYPES
        and (sc.get("seLinuxOptions") or {}).get("user") in (None, "")
        and (sc.get("seLinuxOptions") or {}).get("role") in (None, "") for sc in [_pod_sc(s)] + _scs(s))),
    ("Baseline", "/proc Mount Type", lambda m, s: all(sc.get("procMount") in (None, "Default") for sc in _scs(s))),
    ("Baseline", "Seccomp", lambda m, s: all(
        _profile(sc) in {None} | PROFILE_TYPES for sc in [_pod_sc(s)] + _scs(s))),
    ("Baseline", "Sysctls", lambda m, s: all(
        x["name"] in SAFE_SYSCTLS for x in _pod_sc(s).get("sysctls") or [])),
    # Restricted: everything from Baseline, and
    ("Restricted", "Volume Types", lambda m, s: all(
        any(v.get(t) is not None for t in RESTRICTED_VOLUME_TYPES) for v in s.get("volumes", []))),
    ("Restricted", "Privilege Escalation", lambda m, s: all(sc.get("allowPrivilegeEscalation") is False for sc in _scs(s))),
    ("Restricted", "Running as Non-root", lambda m, s: _non_root(s)),
    ("Restricted", "Running as Non-root user", lambda m, s: all(
        sc.get("runAsUser") != 0 for sc in [_pod_sc(s)] + _scs(s))),
    ("Restricted", "Seccomp", lambda m, s: _restricted_seccomp(s)),
    ("Restricted", "Capabilities", lambda m, s: all(
        "ALL" in _caps(sc, "drop") and _caps(sc, "add") <= {"NET_BIND_SERVICE"} for sc in _scs(s))),
]


def pss_violations(pod, level):
    """The controls `pod` (a Pod or a pod template: metadata + spec) breaks at `level`
    ("baseline" or "restricted"), as "Level/Control"."""
    levels = {"baseline": ["Baseline"], "restricted": ["Baseline", "Restricted"]}[level]
    meta, spec = pod.get("metadata") or {}, pod["spec"]
    return sorted(f"{lv}/{name}" for lv, name, ok in PSS_RULES if lv in levels and not ok(meta, spec))


def pss_level(pod):
    """The most restrictive Pod Security level that admits `pod`."""
    if not pss_violations(pod, "restricted"):
        return "restricted"
    return "baseline" if not pss_violations(pod, "baseline") else "privileged"


def pods_of(docs):
    """{kind: pod template or Pod} for every pod-making manifest rendered; the prober's (a
    DaemonSet or a Deployment) as "Prober"."""
    pods = {}
    for d in docs:
        if d["kind"] in ("DaemonSet", "Deployment") and d["metadata"]["labels"].get("app.kubernetes.io/component") == "prober":
            pods["Prober"] = d["spec"]["template"]
        elif d["kind"] in ("Job", "DaemonSet"):
            pods[d["kind"]] = d["spec"]["template"]
        elif d["kind"] == "CronJob":
            pods[d["kind"]] = d["spec"]["jobTemplate"]["spec"]["template"]
        elif d["kind"] == "Pod":
            pods[d["kind"]] = d
    return pods


class Correlator(unittest.TestCase):
    def daemonset(self, *sets):
        return by_kind(render(*sets), "DaemonSet")

    def test_drops_all_and_adds_only_what_it_needs(self):
        c = self.daemonset()["spec"]["template"]["spec"]["containers"][0]
        sc = c["securityContext"]
        self.assertEqual(sc["capabilities"]["drop"], ["ALL"])
        self.assertEqual(sorted(sc["capabilities"]["add"]), ["NET_ADMIN", "SYS_ADMIN", "SYS_PTRACE"])
        self.assertNotIn("privileged", sc)
        self.assertFalse(sc["allowPrivilegeEscalation"])
        self.assertTrue(sc["readOnlyRootFilesystem"])
        self.assertEqual(c["args"][0], "correlator")

    def test_least_privilege_switch_replaces_sys_admin(self):
        sc = self.daemonset("correlator.leastPrivilege=true")["spec"]["template"]["spec"]["containers"][0]["securityContext"]
        self.assertEqual(sorted(sc["capabilities"]["add"]), ["BPF", "NET_ADMIN", "PERFMON", "SYS_PTRACE"])

    def test_mounts_bpffs_btf_and_the_socket_directory_from_the_host(self):
        spec = self.daemonset()["spec"]["template"]["spec"]
        self.assertTrue(spec["hostNetwork"])
        self.assertTrue(spec["hostPID"])
        volumes = {v["name"]: v["hostPath"]["path"] for v in spec["volumes"]}
        self.assertEqual(volumes, {"bpffs": "/sys/fs/bpf", "btf": "/sys/kernel/btf", "socket": "/run/mtool"})
        mounts = {m["name"]: m for m in spec["containers"][0]["volumeMounts"]}
        self.assertEqual(mounts["bpffs"]["mountPropagation"], "HostToContainer")
        self.assertTrue(mounts["btf"]["readOnly"])
        self.assertIn("--socket=/run/mtool/correlator.sock", spec["containers"][0]["args"])
        self.assertIn("--pin-dir=/sys/fs/bpf/mtool", spec["containers"][0]["args"])

    def test_bidirectional_propagation_is_privileged_as_kubernetes_requires(self):
        spec = self.daemonset("correlator.bpffsMountPropagation=Bidirectional")["spec"]["template"]["spec"]
        c = spec["containers"][0]
        mounts = {m["name"]: m for m in c["volumeMounts"]}
        self.assertEqual(mounts["bpffs"]["mountPropagation"], "Bidirectional")
        self.assertTrue(c["securityContext"]["privileged"])

    def test_runs_on_every_node_with_resources_and_probes(self):
        spec = self.daemonset()["spec"]["template"]["spec"]
        self.assertEqual(spec["tolerations"], [{"operator": "Exists"}])
        c = spec["containers"][0]
        self.assertIn("limits", c["resources"])
        self.assertIn("status", c["readinessProbe"]["exec"]["command"])

    def test_uplinks_and_disabling(self):
        args = self.daemonset("correlator.uplinks={eth0,eth1}")["spec"]["template"]["spec"]["containers"][0]["args"]
        self.assertEqual([a for a in args if a.startswith("--uplink")], ["--uplink=eth0", "--uplink=eth1"])
        kinds = [d["kind"] for d in render("correlator.enabled=false")]
        self.assertNotIn("DaemonSet", kinds)


class Campaign(unittest.TestCase):
    def test_off_by_default(self):
        kinds = [d["kind"] for d in render()]
        self.assertEqual(kinds, ["DaemonSet"])

    def test_job_runs_the_list_from_the_configmap_as_an_unprivileged_pod(self):
        docs = render("campaign.enabled=true", "campaign.pps=250", "campaign.completions=3",
                      "campaign.parallelism=3", "campaign.nodeSelector.mtool/vantage-point=yes")
        job = by_kind(docs, "Job")
        config = by_kind(docs, "ConfigMap")
        self.assertIn('"definitions"', config["data"]["measurements.json"])
        spec = job["spec"]
        self.assertEqual(spec["completionMode"], "Indexed")
        self.assertEqual(spec["completions"], 3)
        pod = spec["template"]["spec"]
        self.assertEqual(pod["nodeSelector"], {"mtool/vantage-point": "yes"})
        self.assertTrue(pod["securityContext"]["runAsNonRoot"])
        self.assertIn({"name": "net.ipv4.ping_group_range", "value": "0 2147483647"}, pod["securityContext"]["sysctls"])
        c = pod["containers"][0]
        self.assertEqual(c["args"][0], "run")
        self.assertIn("--pps=250", c["args"])
        self.assertEqual(c["args"][-1], "/etc/mtool/measurements.json")
        self.assertEqual(c["securityContext"]["capabilities"], {"drop": ["ALL"]})
        self.assertFalse(c["securityContext"]["allowPrivilegeEscalation"])
        env = {e["name"]: e for e in c["env"]}
        self.assertIn("job-completion-index", env["MTOOL_PRB_ID"]["valueFrom"]["fieldRef"]["fieldPath"])
        # Corrections need no volume: the correlator listens inside the pod's network namespace.
        self.assertNotIn("MTOOL_CORRELATOR_SOCKET", env)
        self.assertEqual([m["name"] for m in c["volumeMounts"]], ["measurements"])
        self.assertEqual([v["name"] for v in pod["volumes"]], ["measurements"])
        self.assertFalse(any(a.startswith("--out") for a in c["args"]))  # stdout

    def test_the_host_socket_only_on_request(self):
        docs = render("campaign.enabled=true", "tests.target=198.18.0.1", "correlatorSocketFromHost=true")
        for pod in (by_kind(docs, "Job")["spec"]["template"]["spec"], by_kind(docs, "Pod")["spec"]):
            c = pod["containers"][0]
            env = {e["name"]: e for e in c["env"]}
            self.assertEqual(env["MTOOL_CORRELATOR_SOCKET"]["value"], "/run/mtool/correlator.sock")
            mounts = {m["name"]: m for m in c["volumeMounts"]}
            self.assertEqual(mounts["mtool-socket"]["mountPath"], "/run/mtool")
            self.assertTrue(mounts["mtool-socket"]["readOnly"])
            volumes = {v["name"]: v for v in pod["volumes"]}
            self.assertEqual(volumes["mtool-socket"]["hostPath"]["path"], "/run/mtool")

    def test_fixed_probe_id_and_results_on_a_volume(self):
        docs = render("campaign.enabled=true", "campaign.prbId=6001", "campaign.output.type=volume",
                      "campaign.output.persistentVolumeClaim=results")
        pod = by_kind(docs, "Job")["spec"]["template"]["spec"]
        c = pod["containers"][0]
        self.assertIn("--prb-id=6001", c["args"])
        self.assertNotIn("MTOOL_PRB_ID", [e["name"] for e in c["env"]])
        self.assertIn("--out=/results/$(POD_NAME).jsonl", c["args"])
        claims = [v["persistentVolumeClaim"]["claimName"] for v in pod["volumes"] if "persistentVolumeClaim" in v]
        self.assertEqual(claims, ["results"])
        err = render("campaign.enabled=true", "campaign.output.type=volume", expect_failure=True)
        self.assertIn("persistentVolumeClaim is required", err)

    def test_a_schedule_makes_a_cronjob(self):
        docs = render("campaign.enabled=true", "campaign.schedule=*/30 * * * *")
        kinds = sorted(d["kind"] for d in docs)
        self.assertEqual(kinds, ["ConfigMap", "CronJob", "DaemonSet"])
        cron = by_kind(docs, "CronJob")
        self.assertEqual(cron["spec"]["schedule"], "*/30 * * * *")
        self.assertEqual(cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"][0], "run")


class HelmTest(unittest.TestCase):
    def test_hook_pings_through_the_correlator_and_requires_corrections(self):
        pod = by_kind(render("tests.target=198.18.0.1"), "Pod")
        self.assertEqual(pod["metadata"]["annotations"]["helm.sh/hook"], "test")
        args = pod["spec"]["containers"][0]["args"]
        self.assertEqual(args[0], "ping")
        self.assertIn("--require-correction", args)
        self.assertEqual(args[-1], "198.18.0.1")

    def test_no_target_no_hook(self):
        self.assertNotIn("Pod", [d["kind"] for d in render()])

    def test_no_volume_and_no_capability(self):
        spec = by_kind(render("tests.target=198.18.0.1"), "Pod")["spec"]
        self.assertNotIn("volumes", spec)
        c = spec["containers"][0]
        self.assertNotIn("volumeMounts", c)
        self.assertNotIn("env", c)
        self.assertEqual(c["securityContext"]["capabilities"], {"drop": ["ALL"]})
        self.assertIn({"name": "net.ipv4.ping_group_range", "value": "0 2147483647"}, spec["securityContext"]["sysctls"])
        # campaign.tcpTraceroute is the campaign's alone: the test only pings.
        c = by_kind(render("tests.target=198.18.0.1", "campaign.tcpTraceroute=true"), "Pod")["spec"]["containers"][0]
        self.assertEqual(c["securityContext"]["capabilities"], {"drop": ["ALL"]})


class PodSecurityRules(unittest.TestCase):
    """The rule table itself: a restricted pod, broken one field at a time, fails exactly the
    controls the document names for that field."""

    @staticmethod
    def restricted_pod():
        return {"metadata": {}, "spec": {
            "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"},
                                "sysctls": [{"name": "net.ipv4.ping_group_range", "value": "0 1"}]},
            "containers": [{"name": "c", "securityContext": {
                "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}],
            "volumes": [{"name": "v", "configMap": {"name": "x"}}]}}

    def test_each_control_by_name(self):
        def container(pod):
            return pod["spec"]["containers"][0]

        def sc(pod):
            return container(pod)["securityContext"]

        cases = [
            ("hostProcess", lambda p: sc(p).update(windowsOptions={"hostProcess": True}), ["Baseline/HostProcess"]),
            ("hostNetwork", lambda p: p["spec"].update(hostNetwork=True), ["Baseline/Host Namespaces"]),
            ("hostPID", lambda p: p["spec"].update(hostPID=True), ["Baseline/Host Namespaces"]),
            ("hostIPC", lambda p: p["spec"].update(hostIPC=True), ["Baseline/Host Namespaces"]),
            ("privileged", lambda p: sc(p).update(privileged=True), ["Baseline/Privileged Containers"]),
            ("add NET_RAW", lambda p: sc(p)["capabilities"].update(add=["NET_RAW"]),
             ["Baseline/Capabilities", "Restricted/Capabilities"]),
            ("add CHOWN", lambda p: sc(p)["capabilities"].update(add=["CHOWN"]), ["Restricted/Capabilities"]),
            ("add NET_BIND_SERVICE", lambda p: sc(p)["capabilities"].update(add=["NET_BIND_SERVICE"]), []),
            ("no drop ALL", lambda p: sc(p)["capabilities"].update(drop=["NET_RAW"]), ["Restricted/Capabilities"]),
            ("hostPath", lambda p: p["spec"]["volumes"].append({"name": "h", "hostPath": {"path": "/"}}),
             ["Baseline/HostPath Volumes", "Restricted/Volume Types"]),
            ("nfs", lambda p: p["spec"]["volumes"].append({"name": "n", "nfs": {"server": "s", "path": "/"}}),
             ["Restricted/Volume Types"]),
            ("hostPort", lambda p: container(p).update(ports=[{"containerPort": 80, "hostPort": 80}]),
             ["Baseline/Host Ports"]),
            ("probe host", lambda p: container(p).update(readinessProbe={"httpGet": {"host": "198.18.0.99", "port": 80}}),
             ["Baseline/Host Probes / Lifecycle Hooks"]),
            ("hook host", lambda p: container(p).update(lifecycle={"preStop": {"tcpSocket": {"host": "h", "port": 1}}}),
             ["Baseline/Host Probes / Lifecycle Hooks"]),
            ("AppArmor field", lambda p: sc(p).update(appArmorProfile={"type": "Unconfined"}), ["Baseline/AppArmor"]),
            ("AppArmor annotation", lambda p: p["metadata"].update(
                annotations={"container.apparmor.security.beta.kubernetes.io/c": "unconfined"}), ["Baseline/AppArmor"]),
            ("SELinux type", lambda p: sc(p).update(seLinuxOptions={"type": "spc_t"}), ["Baseline/SELinux"]),
            ("SELinux user", lambda p: sc(p).update(seLinuxOptions={"user": "system_u"}), ["Baseline/SELinux"]),
            ("procMount", lambda p: sc(p).update(procMount="Unmasked"), ["Baseline//proc Mount Type"]),
            ("Unconfined", lambda p: sc(p).update(seccompProfile={"type": "Unconfined"}),
             ["Baseline/Seccomp", "Restricted/Seccomp"]),
            ("no seccomp", lambda p: p["spec"]["securityContext"].pop("seccompProfile"), ["Restricted/Seccomp"]),
            ("unsafe sysctl", lambda p: p["spec"]["securityContext"]["sysctls"].append(
                {"name": "net.ipv4.ip_forward", "value": "1"}), ["Baseline/Sysctls"]),
            ("escalation unset", lambda p: sc(p).pop("allowPrivilegeEscalation"), ["Restricted/Privilege Escalation"]),
            ("escalation true", lambda p: sc(p).update(allowPrivilegeEscalation=True), ["Restricted/Privilege Escalation"]),
            ("runAsNonRoot unset", lambda p: p["spec"]["securityContext"].pop("runAsNonRoot"),
             ["Restricted/Running as Non-root"]),
            ("container runAsNonRoot false", lambda p: sc(p).update(runAsNonRoot=False),
             ["Restricted/Running as Non-root"]),
            ("runAsUser 0", lambda p: sc(p).update(runAsUser=0), ["Restricted/Running as Non-root user"]),
        ]
        self.assertEqual(pss_violations(self.restricted_pod(), "restricted"), [])
        for what, change, expected in cases:
            pod = self.restricted_pod()
            change(pod)
            self.assertEqual(pss_violations(pod, "restricted"), expected, what)
            self.assertEqual(pss_violations(pod, "baseline"), [v for v in expected if v.startswith("Baseline/")], what)


class PodSecurity(unittest.TestCase):
    """Every rendered pod against the Pod Security Standards, by control name."""

    # Value sets under which the measuring pods must stay `restricted`.
    VALUE_SETS = [
        (),
        ("campaign.schedule=*/30 * * * *",),
        ("campaign.completions=5", "campaign.parallelism=5", "campaign.breakdown=true"),
        ("campaign.prbId=6001", "campaign.output.type=volume", "campaign.output.persistentVolumeClaim=results"),
        ("campaign.spread=preferred", "campaign.spreadBy=topology.kubernetes.io/zone"),
        ("campaign.spread=none", "campaign.nodeSelector.mtool/vantage-point=yes"),
        ("correlator.leastPrivilege=true",),
        ("correlator.enabled=false", "podSecurityContext.fsGroup=10001"),
    ]

    def test_measuring_pods_are_restricted_by_default_and_under_value_sets(self):
        for sets in self.VALUE_SETS:
            sets = ("campaign.enabled=true", "tests.target=198.18.0.1") + sets
            pods = pods_of(render(*sets))
            kinds = sorted(k for k in pods if k != "DaemonSet")
            self.assertEqual(kinds, ["CronJob", "Pod"] if "schedule" in str(sets) else ["Job", "Pod"], sets)
            for kind in kinds:
                self.assertEqual(pss_violations(pods[kind], "restricted"), [], (kind, sets))
                self.assertEqual(pss_level(pods[kind]), "restricted")

    def test_the_host_socket_needs_privileged_as_documented(self):
        for sets in [(), ("campaign.schedule=@hourly",)]:
            pods = pods_of(render("campaign.enabled=true", "tests.target=198.18.0.1", "correlatorSocketFromHost=true", *sets))
            for kind in ("CronJob" if sets else "Job", "Pod"):
                self.assertEqual(pss_violations(pods[kind], "baseline"), ["Baseline/HostPath Volumes"], kind)
                self.assertEqual(pss_violations(pods[kind], "restricted"),
                                 ["Baseline/HostPath Volumes", "Restricted/Volume Types"], kind)
                self.assertEqual(pss_level(pods[kind]), "privileged")

    def test_tcp_traceroute_fails_baseline_and_restricted_by_capabilities(self):
        for sets in [(), ("campaign.schedule=@hourly",)]:
            pods = pods_of(render("campaign.enabled=true", "tests.target=198.18.0.1", "campaign.tcpTraceroute=true", *sets))
            campaign = pods["CronJob" if sets else "Job"]
            self.assertEqual(pss_violations(campaign, "baseline"), ["Baseline/Capabilities"])
            self.assertEqual(pss_violations(campaign, "restricted"),
                             ["Baseline/Capabilities", "Restricted/Capabilities", "Restricted/Privilege Escalation"])
            self.assertEqual(pss_level(campaign), "privileged")
            sc = campaign["spec"]["containers"][0]["securityContext"]
            self.assertEqual(sc["capabilities"], {"drop": ["ALL"], "add": ["NET_RAW"]})
            # uid 10001 gets NET_RAW only from the image's file capability, which execve grants
            # only without no_new_privs.
            self.assertTrue(sc["allowPrivilegeEscalation"])
            self.assertTrue(sc["runAsNonRoot"])
            self.assertEqual(pss_level(pods["Pod"]), "restricted")  # the helm test pod only pings

    def test_the_correlator_is_privileged_level(self):
        # Expected: the node's namespaces, its bpffs/BTF/socket, root and bpf()-class capabilities.
        common = ["Baseline/Capabilities", "Baseline/Host Namespaces", "Baseline/HostPath Volumes"]
        restricted = common + ["Restricted/Capabilities", "Restricted/Running as Non-root",
                               "Restricted/Running as Non-root user", "Restricted/Seccomp", "Restricted/Volume Types"]
        for sets, extra_baseline, extra_restricted in [
            ((), [], []),
            (("correlator.leastPrivilege=true",), [], []),
            (("correlator.bpffsMountPropagation=Bidirectional",), ["Baseline/Privileged Containers"],
             ["Baseline/Privileged Containers", "Restricted/Privilege Escalation"]),
        ]:
            ds = pods_of(render(*sets))["DaemonSet"]
            self.assertEqual(pss_violations(ds, "baseline"), sorted(common + extra_baseline), sets)
            self.assertEqual(pss_violations(ds, "restricted"), sorted(restricted + extra_restricted), sets)
            self.assertEqual(pss_level(ds), "privileged")


def schedule(pod, nodes, replicas):
    """Where `replicas` copies of `pod`, all running at once, land on `nodes` (label maps) under
    the pod's required pod anti-affinity, as kube-scheduler filters: a node is feasible unless a
    pod the term selects already runs in the node's topology domain. None: Pending."""
    spec = pod["spec"]
    labels = pod["metadata"]["labels"]
    terms = ((spec.get("affinity") or {}).get("podAntiAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution", [])
    placed = []
    for _ in range(replicas):
        def feasible(node):
            for t in terms:
                if not all(labels.get(k) == v for k, v in t["labelSelector"]["matchLabels"].items()):
                    continue
                if any(n.get(t["topologyKey"]) == node.get(t["topologyKey"]) for n in placed if n):
                    return False
            return True
        candidates = [n for n in nodes if feasible(n)]
        placed.append(candidates[0] if candidates else None)
    return placed


class VantagePoints(unittest.TestCase):
    NODES = [{"kubernetes.io/hostname": f"node{i}", "topology.kubernetes.io/zone": f"zone{i % 2}"} for i in range(4)]

    def job_pod(self, *sets, values=None):
        return by_kind(render("campaign.enabled=true", *sets, values=values), "Job")["spec"]["template"]

    def test_an_indexed_campaign_runs_each_index_on_its_own_node(self):
        pod = self.job_pod("campaign.completions=4", "campaign.parallelism=4")
        terms = pod["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        self.assertEqual(len(terms), 1)
        self.assertEqual(terms[0]["topologyKey"], "kubernetes.io/hostname")
        # The term selects this campaign's pods (by its own labels), nothing else of the release.
        selector = terms[0]["labelSelector"]["matchLabels"]
        self.assertEqual(selector, {"app.kubernetes.io/instance": "mtool", "app.kubernetes.io/component": "campaign"})
        self.assertLessEqual(selector.items(), pod["metadata"]["labels"].items())
        hosts = [n["kubernetes.io/hostname"] for n in schedule(pod, self.NODES, 4)]
        self.assertEqual(len(set(hosts)), 4)
        # More pods at once than nodes: the fifth stays Pending (values.yaml says so).
        self.assertEqual(schedule(pod, self.NODES, 5)[4], None)

    def test_distinct_zones_preferred_or_none(self):
        pod = self.job_pod("campaign.spreadBy=topology.kubernetes.io/zone")
        placed = schedule(pod, self.NODES, 3)
        self.assertEqual(sorted(n["topology.kubernetes.io/zone"] for n in placed[:2]), ["zone0", "zone1"])
        self.assertIsNone(placed[2])
        anti = self.job_pod("campaign.spread=preferred")["spec"]["affinity"]["podAntiAffinity"]
        self.assertEqual(list(anti), ["preferredDuringSchedulingIgnoredDuringExecution"])
        weighted = anti["preferredDuringSchedulingIgnoredDuringExecution"][0]
        self.assertEqual(weighted["weight"], 100)
        self.assertEqual(weighted["podAffinityTerm"]["topologyKey"], "kubernetes.io/hostname")
        self.assertNotIn("affinity", self.job_pod("campaign.spread=none")["spec"])

    def test_a_cronjob_spreads_its_runs_too(self):
        cron = by_kind(render("campaign.enabled=true", "campaign.schedule=@hourly"), "CronJob")
        affinity = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["affinity"]
        self.assertIn("requiredDuringSchedulingIgnoredDuringExecution", affinity["podAntiAffinity"])

    def test_the_users_affinity_wins(self):
        node_affinity = {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "mtool/vantage-point", "operator": "In", "values": ["yes"]}]}]}}
        # A nodeAffinity of the user's is kept alongside the distinct-nodes rule...
        affinity = self.job_pod(values={"campaign": {"affinity": {"nodeAffinity": node_affinity}}})["spec"]["affinity"]
        self.assertEqual(affinity["nodeAffinity"], node_affinity)
        self.assertEqual(affinity["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]["topologyKey"],
                         "kubernetes.io/hostname")
        # ...and a podAntiAffinity of the user's replaces it.
        mine = {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "podAffinityTerm": {
            "topologyKey": "topology.kubernetes.io/region", "labelSelector": {"matchLabels": {"a": "b"}}}}]}
        affinity = self.job_pod(values={"campaign": {"affinity": {"podAntiAffinity": mine}}})["spec"]["affinity"]
        self.assertEqual(affinity, {"podAntiAffinity": mine})

    def test_topology_spread_constraints_pass_through(self):
        constraint = {"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "ScheduleAnyway",
                      "labelSelector": {"matchLabels": {"app.kubernetes.io/component": "campaign"}}}
        spec = self.job_pod(values={"campaign": {"topologySpreadConstraints": [constraint]}})["spec"]
        self.assertEqual(spec["topologySpreadConstraints"], [constraint])
        self.assertNotIn("topologySpreadConstraints", self.job_pod()["spec"])


class Prober(unittest.TestCase):
    def docs(self, *sets, values=None):
        return render("prober.enabled=true", *sets, values=values)

    def container(self, docs):
        return by_component(docs, self.kind(docs), "prober")["spec"]["template"]["spec"]["containers"][0]

    @staticmethod
    def kind(docs):
        return "Deployment" if any(d["kind"] == "Deployment" for d in docs) else "DaemonSet"

    def test_a_daemonset_serves_metrics_of_the_periodic_list_where_it_is(self):
        docs = self.docs("prober.labels.site=fra1", "prober.buckets=50us:5s:3")
        prober = by_component(docs, "DaemonSet", "prober")
        config = by_component(docs, "ConfigMap", "prober")
        self.assertIn('"interval"', config["data"]["measurements.json"])
        pod = prober["spec"]["template"]
        c = pod["spec"]["containers"][0]
        self.assertEqual(c["args"][0], "run")
        self.assertEqual(c["args"][-1], "/etc/mtool/measurements.json")
        for arg in ["--metrics=$(POD_IP):9101", "--label=node=$(NODE_NAME)", "--label=site=fra1",
                    "--metrics-buckets=50us:5s:3", "--metrics-max-series=100000"]:
            self.assertIn(arg, c["args"])
        env = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in c["env"]}
        self.assertEqual(env["POD_IP"], "status.podIP")
        self.assertEqual(env["NODE_NAME"], "spec.nodeName")
        self.assertEqual(c["ports"], [{"name": "metrics", "containerPort": 9101}])
        self.assertEqual(c["readinessProbe"]["httpGet"], {"path": "/metrics", "port": "metrics"})
        self.assertEqual(pod["metadata"]["annotations"]["prometheus.io/port"], "9101")
        self.assertEqual(pod["metadata"]["annotations"]["prometheus.io/scrape"], "true")
        self.assertLessEqual(prober["spec"]["selector"]["matchLabels"].items(), pod["metadata"]["labels"].items())
        self.assertEqual(pod["spec"]["volumes"], [{"name": "measurements", "configMap": {"name": "mtool-prober"}}])
        self.assertFalse(any(a.startswith("--out") for a in c["args"]))  # results on stdout too

    def test_a_deployment_metrics_only_and_a_new_list_restarts_it(self):
        docs = self.docs("prober.kind=Deployment", "prober.replicas=3", "prober.results=none")
        deployment = by_component(docs, "Deployment", "prober")
        self.assertEqual(deployment["spec"]["replicas"], 3)
        self.assertIn("--out=/dev/null", self.container(docs)["args"])
        self.assertNotIn("--metrics-buckets", " ".join(self.container(docs)["args"]))
        checksum = deployment["spec"]["template"]["metadata"]["annotations"]["checksum/measurements"]
        another_list = {"prober": {"measurements": '[{"type": "ping", "target": "198.18.0.2", "interval": 60}]'}}
        other = by_component(self.docs("prober.kind=Deployment", values=another_list), "Deployment", "prober")
        self.assertNotEqual(other["spec"]["template"]["metadata"]["annotations"]["checksum/measurements"], checksum)

    def test_no_annotations_on_request(self):
        pod = by_component(self.docs("metrics.annotations=false"), "DaemonSet", "prober")["spec"]["template"]
        self.assertNotIn("prometheus.io/scrape", pod["metadata"]["annotations"])
        ds = by_component(self.docs("metrics.annotations=false"), "DaemonSet", "correlator")
        self.assertNotIn("annotations", ds["spec"]["template"]["metadata"])

    def test_restricted_unless_tcp_traceroute(self):
        for kind in ("DaemonSet", "Deployment"):
            pod = pods_of(self.docs(f"prober.kind={kind}"))["Prober"]
            self.assertEqual(pss_violations(pod, "restricted"), [], kind)
            pod = pods_of(self.docs(f"prober.kind={kind}", "prober.tcpTraceroute=true"))["Prober"]
            self.assertEqual(pss_level(pod), "privileged", kind)
            pod = pods_of(self.docs(f"prober.kind={kind}", "correlatorSocketFromHost=true"))["Prober"]
            self.assertEqual(pss_violations(pod, "baseline"), ["Baseline/HostPath Volumes"], kind)


class CorrelatorMetrics(unittest.TestCase):
    def test_serves_on_the_nodes_address_with_a_named_port(self):
        ds = by_kind(render(), "DaemonSet")
        c = ds["spec"]["template"]["spec"]["containers"][0]
        self.assertIn("--metrics=$(POD_IP):9102", c["args"])
        self.assertEqual({e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in c["env"]}, {"POD_IP": "status.podIP"})
        self.assertEqual(c["ports"], [{"name": "metrics", "containerPort": 9102}])
        self.assertEqual(ds["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"], "9102")
        c = by_kind(render("correlator.metrics.address=198.18.0.5", "correlator.metrics.port=9200"),
                    "DaemonSet")["spec"]["template"]["spec"]["containers"][0]
        self.assertIn("--metrics=198.18.0.5:9200", c["args"])

    def test_off_on_request(self):
        ds = by_kind(render("correlator.metrics.enabled=false"), "DaemonSet")
        c = ds["spec"]["template"]["spec"]["containers"][0]
        self.assertFalse(any(a.startswith("--metrics") for a in c["args"]))
        self.assertNotIn("ports", c)
        self.assertNotIn("annotations", ds["spec"]["template"]["metadata"])


class Monitors(unittest.TestCase):
    def test_none_by_default(self):
        kinds = {d["kind"] for d in render("prober.enabled=true")}
        self.assertFalse(kinds & {"PodMonitor", "ServiceMonitor", "Service"})

    def test_a_podmonitor_per_component_selects_its_pods(self):
        docs = render("prober.enabled=true", "metrics.monitor=PodMonitor", "metrics.interval=15s",
                      "metrics.monitorLabels.release=kube-prometheus-stack")
        for component in ("prober", "correlator"):
            monitor = by_component(docs, "PodMonitor", component)
            self.assertEqual(monitor["apiVersion"], "monitoring.coreos.com/v1")
            self.assertEqual(monitor["metadata"]["labels"]["release"], "kube-prometheus-stack")
            pods = pods_of(docs)["Prober" if component == "prober" else "DaemonSet"]
            self.assertLessEqual(monitor["spec"]["selector"]["matchLabels"].items(), pods["metadata"]["labels"].items())
            endpoint, = monitor["spec"]["podMetricsEndpoints"]
            self.assertEqual((endpoint["port"], endpoint["path"], endpoint["interval"]), ("metrics", "/metrics", "15s"))
            ports = [p["name"] for c in pods["spec"]["containers"] for p in c.get("ports", [])]
            self.assertIn("metrics", ports)
        # The correlator's series get the node as the prober's carry it (--label node=...).
        relabel, = by_component(docs, "PodMonitor", "correlator")["spec"]["podMetricsEndpoints"][0]["relabelings"]
        self.assertEqual(relabel, {"sourceLabels": ["__meta_kubernetes_pod_node_name"], "targetLabel": "node"})
        self.assertNotIn("relabelings", by_component(docs, "PodMonitor", "prober")["spec"]["podMetricsEndpoints"][0])

    def test_a_servicemonitor_comes_with_a_headless_service(self):
        docs = render("prober.enabled=true", "metrics.monitor=ServiceMonitor")
        for component, port in (("prober", 9101), ("correlator", 9102)):
            service = by_component(docs, "Service", component)
            self.assertEqual(service["spec"]["clusterIP"], "None")
            self.assertEqual(service["spec"]["ports"], [{"name": "metrics", "port": port, "targetPort": "metrics"}])
            monitor = by_component(docs, "ServiceMonitor", component)
            self.assertLessEqual(monitor["spec"]["selector"]["matchLabels"].items(), service["metadata"]["labels"].items())
            self.assertEqual(monitor["spec"]["endpoints"][0]["port"], "metrics")
        # Without the correlator's metrics, only the prober's.
        docs = render("prober.enabled=true", "metrics.monitor=ServiceMonitor", "correlator.metrics.enabled=false")
        self.assertEqual([d["metadata"]["name"] for d in docs if d["kind"] == "ServiceMonitor"], ["mtool-prober"])


# Every metric either half of issue 16 exports (mtool run --metrics, mtool correlator --metrics).
PROBER_METRICS = {"mtool_probe_rtt_seconds", "mtool_probe_corrected_rtt_seconds", "mtool_results_total",
                  "mtool_probes_sent_total", "mtool_probe_replies_total", "mtool_probe_duplicates_total",
                  "mtool_probe_errors_total", "mtool_probe_success", "mtool_traceroute_hops",
                  "mtool_traceroute_hop_replies_total", "mtool_metrics_unexported_measurements"}
CORRELATOR_METRICS = {"mtool_correlator_" + m for m in (
    "probes_followed_total", "replies_matched_total", "replies_unmatched_total", "records_written_total",
    "records_served_total", "evictions_total", "collisions_total", "map_entries", "map_capacity_entries",
    "program_runs_total", "program_run_seconds_total", "egress_overhead_seconds", "ingress_overhead_seconds",
    "wire_rtt_seconds")}


class Dashboard(unittest.TestCase):
    def test_off_by_default_and_a_labelled_configmap_on_request(self):
        self.assertNotIn("ConfigMap", [d["kind"] for d in render()])
        docs = render("dashboard.enabled=true", "dashboard.namespace=monitoring",
                      "dashboard.annotations.grafana_folder=mtool")
        config = [d for d in docs if d["kind"] == "ConfigMap"][0]
        self.assertEqual(config["metadata"]["labels"]["grafana_dashboard"], "1")
        self.assertEqual(config["metadata"]["namespace"], "monitoring")
        self.assertEqual(config["metadata"]["annotations"], {"grafana_folder": "mtool"})
        with open(os.path.join(CHART, "dashboards", "mtool.json")) as f:
            self.assertEqual(json.loads(config["data"]["mtool.json"]), json.load(f))

    def test_its_queries_ask_for_the_metrics_mtool_exports_and_cover_the_panels_asked(self):
        with open(os.path.join(CHART, "dashboards", "mtool.json")) as f:
            dashboard = json.load(f)
        panels = [p for p in dashboard["panels"] if p["type"] != "row"]
        exprs = [t["expr"] for p in panels for t in p["targets"]]
        self.assertTrue(all(p["targets"] for p in panels))
        used = {re.sub(r"_(bucket|sum|count)$", "", m) for e in exprs for m in re.findall(r"mtool_[a-z_]+", e)}
        self.assertLessEqual(used, PROBER_METRICS | CORRELATOR_METRICS)
        for metric in ("mtool_probe_rtt_seconds", "mtool_probe_corrected_rtt_seconds", "mtool_probes_sent_total",
                       "mtool_correlator_egress_overhead_seconds", "mtool_correlator_ingress_overhead_seconds",
                       "mtool_correlator_program_run_seconds_total"):
            self.assertIn(metric, used)
        self.assertEqual(sorted(p["type"] for p in panels if p["type"] == "heatmap"), ["heatmap", "heatmap"])
        variables = {v["name"] for v in dashboard["templating"]["list"]}
        self.assertEqual(variables, {"datasource", "node", "target"})
        for e in exprs:  # every query follows the dashboard's selection
            self.assertIn('node=~"$node"', e)


class Schema(unittest.TestCase):
    def test_refuses_bad_values_by_name(self):
        for assignment, words in [
            ("campaign.pps=fast", "campaign.pps"),
            ("campaign.concurrency=5000", "campaign.concurrency"),
            ("campaign.colour=red", "colour"),
            ("correlator.bpffsMountPropagation=None", "bpffsMountPropagation"),
            ("hostPaths.socketDir=relative", "socketDir"),
            ("campaign.output.type=s3", "campaign.output.type"),
            ("correlatorSocketFromHost=sometimes", "correlatorSocketFromHost"),
            ("campaign.tcpTraceroute=1", "campaign.tcpTraceroute"),
            ("campaign.spread=always", "campaign.spread"),
            ("campaign.spreadBy=node name", "campaign.spreadBy"),
            ("campaign.affinity.nodeAfinity.x=y", "nodeAfinity"),
            ("campaign.topologySpreadConstraints={zone}", "campaign.topologySpreadConstraints"),
            ("prober.kind=StatefulSet", "prober.kind"),
            ("prober.labels.node=a1", "prober.labels"),
            ("prober.labels.no-de=a1", "prober.labels"),
            ("prober.results=file", "prober.results"),
            ("prober.port=70000", "prober.port"),
            ("metrics.monitor=Probe", "metrics.monitor"),
            ("metrics.interval=often", "metrics.interval"),
            ("correlator.metrics.address=localhost", "correlator.metrics.address"),
            ("dashboard.label=bad label", "dashboard.label"),
        ]:
            err = render(assignment, expect_failure=True)
            self.assertIn("don't meet the specifications", err, assignment)
            self.assertIn(words, err, assignment)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as work:
        RENDER = sys.argv[1] if len(sys.argv) > 1 else build_renderer(work)
        unittest.main(argv=sys.argv[:1], verbosity=1)
