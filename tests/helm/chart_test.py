#!/usr/bin/env python3
"""Renders helm/mtool with tests/helm/render (Helm's template engine and schema validator,
built here with Debian's Go packages) under several value sets and checks the manifests: what
the correlator DaemonSet may do and mount, what a campaign Job runs and where its results go,
the CronJob, the `helm test` hook, every pod against the Pod Security Standards (a rule table
written from the Kubernetes document), the campaign's distinct vantage points, and that the
schema refuses bad values.

    usage: tests/helm/chart_test.py [path/to/render]   (builds the renderer when not given)
"""
import os
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


class Schema(unittest.TestCase):
    def test_refuses_bad_values_by_name(self):
        for assignment, words in [
            ("campaign.pps=fast", "campaign.pps"),
            ("campaign.concurrency=5000", "campaign.concurrency"),
            ("campaign.colour=red", "colour"),
            ("correlator.bpffsMountPropagation=None", "bpffsMountPropagation"),
            ("hostPaths.socketDir=relative", "socketDir"),
            ("campaign.output.type=s3", "campaign.output.type"),
        ]:
            err = render(assignment, expect_failure=True)
            self.assertIn("don't meet the specifications", err, assignment)
            self.assertIn(words, err, assignment)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as work:
        RENDER = sys.argv[1] if len(sys.argv) > 1 else build_renderer(work)
        unittest.main(argv=sys.argv[:1], verbosity=1)
