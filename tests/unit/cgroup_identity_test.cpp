// A process's container and pod from its cgroup path (lib/correlator/cgroup_identity): the
// shapes Docker, Podman and the kubelet's two cgroup drivers write, and what a container that
// names its own cgroups cannot make it say.
#include "correlator/cgroup_identity.h"

#include <gtest/gtest.h>

#include <string>

namespace mtool::correlator {
namespace {

const std::string kId = "3f4e0d1c2b3a49586776a5b4c3d2e1f00112233445566778899aabbccddeeff0";
const std::string kOtherId = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kUid = "1b2c3d4e-5f60-4718-92a3-b4c5d6e7f809";
const std::string kUidSystemd = "1b2c3d4e_5f60_4718_92a3_b4c5d6e7f809";

TEST(CgroupIdentity, DockerCgroupfsDriver) {
  EXPECT_EQ(identity_from_cgroup_path("/docker/" + kId), (WorkloadIdentity{kId, ""}));
}

TEST(CgroupIdentity, DockerAndPodmanSystemdDriver) {
  EXPECT_EQ(identity_from_cgroup_path("/system.slice/docker-" + kId + ".scope"),
            (WorkloadIdentity{kId, ""}));
  EXPECT_EQ(identity_from_cgroup_path("/machine.slice/libpod-" + kId + ".scope"),
            (WorkloadIdentity{kId, ""}));
}

TEST(CgroupIdentity, KubernetesCgroupfsDriver) {
  EXPECT_EQ(identity_from_cgroup_path("/kubepods/besteffort/pod" + kUid + "/" + kId),
            (WorkloadIdentity{kId, kUid}));
  EXPECT_EQ(identity_from_cgroup_path("/kubepods/pod" + kUid + "/crio-" + kId),
            (WorkloadIdentity{kId, kUid}));
}

TEST(CgroupIdentity, KubernetesSystemdDriverGivesTheUidWithDashes) {
  const std::string pod =
      "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kUidSystemd + ".slice/";
  EXPECT_EQ(identity_from_cgroup_path(pod + "cri-containerd-" + kId + ".scope"),
            (WorkloadIdentity{kId, kUid}));
  EXPECT_EQ(identity_from_cgroup_path(pod + "crio-" + kId + ".scope"),
            (WorkloadIdentity{kId, kUid}));
  EXPECT_EQ(identity_from_cgroup_path(pod + "docker-" + kId + ".scope"),
            (WorkloadIdentity{kId, kUid}));
  // Guaranteed pods sit right under kubepods.slice.
  EXPECT_EQ(identity_from_cgroup_path("/kubepods.slice/kubepods-pod" + kUidSystemd + ".slice/" +
                                      "cri-containerd-" + kId + ".scope"),
            (WorkloadIdentity{kId, kUid}));
}

TEST(CgroupIdentity, APodCgroupItselfNamesThePodOnly) {
  // A pod's own cgroup (or CRI-O's conmon beside the container) names no container.
  EXPECT_EQ(identity_from_cgroup_path("/kubepods/besteffort/pod" + kUid),
            (WorkloadIdentity{"", kUid}));
  EXPECT_EQ(identity_from_cgroup_path("/kubepods/pod" + kUid + "/crio-conmon-" + kId + ".scope"),
            (WorkloadIdentity{"", kUid}));
}

TEST(CgroupIdentity, NamesBelowAContainerCannotClaimAnother) {
  // A container with delegated cgroups names a child after another container or pod: the
  // outermost name, which the runtime set, is kept.
  EXPECT_EQ(identity_from_cgroup_path("/docker/" + kId + "/docker/" + kOtherId),
            (WorkloadIdentity{kId, ""}));
  EXPECT_EQ(identity_from_cgroup_path("/system.slice/docker-" + kId + ".scope/docker-" + kOtherId +
                                      ".scope"),
            (WorkloadIdentity{kId, ""}));
  const std::string other_uid = "99999999-9999-4999-8999-999999999999";
  EXPECT_EQ(identity_from_cgroup_path("/kubepods/besteffort/pod" + kUid + "/" + kId +
                                      "/kubepods/pod" + other_uid + "/" + kOtherId),
            (WorkloadIdentity{kId, kUid}));
}

TEST(CgroupIdentity, NothingThatIsNotExactlyAnIdBecomesALabel) {
  for (const std::string& path :
       {std::string("/"), std::string("/user.slice/user-1000.slice/session-2.scope"),
        "/docker/" + kId.substr(1),                                               // 63 digits
        "/docker/" + kId + "0",                                                   // 65
        "/docker/" + std::string(64, 'G'),                                        // not hex
        "/system.slice/docker-" + kId + "x.scope",                                // trailing junk
        "/kubepods/besteffort/pod" + kUid + "0",                                  // uid too long
        std::string("/kubepods/besteffort/podnot-a-uid-at-all-not-a-uid-at-al"),  // not a uid
        "/pod" + kUid + "/" + kId,  // a pod not under kubepods
        "/docker/" + std::string(100000, 'a')}) {
    EXPECT_EQ(identity_from_cgroup_path(path), WorkloadIdentity{}) << path.substr(0, 120);
  }
}

TEST(CgroupIdentity, ProcFileTakesTheFirstLineThatNamesSomething) {
  // cgroup v1 beside v2's unified line (as on this project's machines), and paths with colons.
  const std::string text = "12:pids:/\n4:memory:/docker/" + kId + "\n1:name=systemd:/docker/" +
                           kOtherId + "\n0::/docker/" + kOtherId + "\n";
  EXPECT_EQ(identity_from_proc_cgroup(text), (WorkloadIdentity{kId, ""}));
  EXPECT_EQ(identity_from_proc_cgroup("0::/kubepods/pod" + kUid + "/" + kId),
            (WorkloadIdentity{kId, kUid}));
  EXPECT_EQ(identity_from_proc_cgroup("0::/odd:name/docker-" + kId + ".scope\n"),
            (WorkloadIdentity{kId, ""}));
  EXPECT_EQ(identity_from_proc_cgroup("0::/\n"), WorkloadIdentity{});
  EXPECT_EQ(identity_from_proc_cgroup("garbage without colons\n\n:"), WorkloadIdentity{});
  EXPECT_EQ(identity_from_proc_cgroup(""), WorkloadIdentity{});
}

}  // namespace
}  // namespace mtool::correlator
