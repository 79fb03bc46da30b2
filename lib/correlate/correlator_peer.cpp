#include "correlate/correlator_peer.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <string>

namespace mtool::correlate {

bool trust_abstract_peer(const PeerFacts& peer) {
  if (peer.pid == 0) return true;  // outside our pid namespace: not one of the container's
  return peer.uid == 0 && peer.shares_our_netns.has_value() && !*peer.shares_our_netns;
}

std::optional<PeerFacts> peer_facts(int fd) {
  ucred credentials{};
  socklen_t length = sizeof credentials;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0 ||
      length != sizeof credentials) {
    return std::nullopt;
  }
  PeerFacts facts;
  facts.pid = credentials.pid;
  facts.uid = credentials.uid;
  if (facts.pid != 0) {
    struct stat ours {};
    struct stat theirs {};
    const std::string path = "/proc/" + std::to_string(facts.pid) + "/ns/net";
    if (::stat("/proc/self/ns/net", &ours) == 0 && ::stat(path.c_str(), &theirs) == 0) {
      facts.shares_our_netns = ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino;
    }
  }
  return facts;
}

}  // namespace mtool::correlate
