#pragma once
// Which container and pod a process belongs to, as the host can tell from its cgroup path
// (/proc/PID/cgroup): the labels of a measuring namespace's metrics. Pure: text in, ids out.
//
//   Docker (cgroupfs)     /docker/<id>
//   Docker (systemd)      /system.slice/docker-<id>.scope
//   Podman                /machine.slice/libpod-<id>.scope
//   Kubernetes (cgroupfs) /kubepods/<qos>/pod<uid>/<id>   (also crio-<id>, docker-<id>)
//   Kubernetes (systemd)  /kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid>.slice/
//                         cri-containerd-<id>.scope        (also crio-<id>, docker-<id>)
//
// with <id> 64 hexadecimal digits and <uid> a UUID (the systemd form writes its dashes as
// underscores; given back with dashes, as the API server and kube-state-metrics write it).
// A container with its cgroups delegated can create any name below its own cgroup, never above:
// the outermost match is taken (the pod, then the first container below it), so no process
// can claim another container's id by naming a cgroup of its own after it. Anything that is
// not exactly these shapes gives no label, so label values stay bounded.
#include <string>
#include <string_view>

namespace mtool::correlator {

struct WorkloadIdentity {
  std::string container_id;  // 64 lowercase hex digits, or empty
  std::string pod_uid;       // Kubernetes pod UID (8-4-4-4-12), or empty

  bool operator==(const WorkloadIdentity&) const = default;
};

// From one cgroup path ("/kubepods/besteffort/pod.../...").
WorkloadIdentity identity_from_cgroup_path(std::string_view path);

// From /proc/PID/cgroup ("ID:CONTROLLERS:PATH" lines, cgroup v1 and v2): the first line whose
// path names a container or a pod.
WorkloadIdentity identity_from_proc_cgroup(std::string_view text);

}  // namespace mtool::correlator
