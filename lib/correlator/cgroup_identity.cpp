#include "correlator/cgroup_identity.h"

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

namespace mtool::correlator {
namespace {

constexpr std::size_t kContainerIdLength = 64;
constexpr std::size_t kUuidLength = 36;

bool is_lower_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

std::vector<std::string_view> components(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    const std::string_view part = path.substr(0, slash);
    if (!part.empty()) out.push_back(part);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool consume_prefix(std::string_view& text, std::string_view prefix) {
  if (text.substr(0, prefix.size()) != prefix) return false;
  text.remove_prefix(prefix.size());
  return true;
}

bool consume_suffix(std::string_view& text, std::string_view suffix) {
  if (text.size() < suffix.size() || text.substr(text.size() - suffix.size()) != suffix)
    return false;
  text.remove_suffix(suffix.size());
  return true;
}

bool is_container_id(std::string_view text) {
  return text.size() == kContainerIdLength && std::all_of(text.begin(), text.end(), is_lower_hex);
}

// A container's cgroup: "<id>", or "<runtime>-<id>" with ".scope" (systemd) or without.
std::optional<std::string> container_id_of(std::string_view part) {
  consume_suffix(part, ".scope");
  static constexpr std::array<std::string_view, 4> kRuntimes = {"docker-", "cri-containerd-",
                                                                "crio-", "libpod-"};
  for (const std::string_view runtime : kRuntimes) {
    if (consume_prefix(part, runtime)) break;
  }
  if (!is_container_id(part)) return std::nullopt;
  return std::string(part);
}

// A pod's cgroup: "pod<uid>" (cgroupfs) or "kubepods[-<qos>]-pod<uid_with_underscores>.slice".
std::optional<std::string> pod_uid_of(std::string_view part) {
  if (consume_suffix(part, ".slice")) {
    const std::size_t pod = part.rfind("-pod");
    if (part.substr(0, 8) != "kubepods" || pod == std::string_view::npos) return std::nullopt;
    part.remove_prefix(pod + 1);
  }
  if (!consume_prefix(part, "pod") || part.size() != kUuidLength) return std::nullopt;
  std::string uid(part);
  std::replace(uid.begin(), uid.end(), '_', '-');
  for (std::size_t i = 0; i < uid.size(); ++i) {
    const bool dash_here = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_here ? uid[i] != '-' : !is_lower_hex(uid[i])) return std::nullopt;
  }
  return uid;
}

}  // namespace

WorkloadIdentity identity_from_cgroup_path(std::string_view path) {
  WorkloadIdentity identity;
  const std::vector<std::string_view> parts = components(path);
  // A pod: the first pod<uid> below a kubepods cgroup; its container is the cgroup right below.
  auto it = std::find_if(parts.begin(), parts.end(), [](std::string_view p) {
    return p == "kubepods" || p == "kubepods.slice";
  });
  for (; it != parts.end(); ++it) {
    auto uid = pod_uid_of(*it);
    if (!uid) continue;
    identity.pod_uid = std::move(*uid);
    if (it + 1 != parts.end()) {
      if (auto id = container_id_of(*(it + 1))) identity.container_id = std::move(*id);
    }
    return identity;
  }
  // Docker or Podman alone: the outermost container cgroup, "<runtime>-<id>[.scope]" or the
  // <id> right below "docker".
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const bool named_by_parent = i > 0 && parts[i - 1] == "docker";
    if (!named_by_parent && parts[i].find('-') == std::string_view::npos) continue;
    if (auto id = container_id_of(parts[i])) {
      identity.container_id = std::move(*id);
      break;
    }
  }
  return identity;
}

WorkloadIdentity identity_from_proc_cgroup(std::string_view text) {
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    // "ID:CONTROLLERS:PATH"; the path may itself hold colons.
    const std::size_t first = line.find(':');
    const std::size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    WorkloadIdentity identity = identity_from_cgroup_path(line.substr(second + 1));
    if (!identity.container_id.empty() || !identity.pod_uid.empty()) return identity;
  }
  return {};
}

}  // namespace mtool::correlator
