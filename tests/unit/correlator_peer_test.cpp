// Who may answer at the correlator's abstract name (lib/correlate/correlator_peer): the
// decision over what the kernel says about the peer, and those facts for a real socket pair.
#include "correlate/correlator_peer.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/fd.h"

namespace mtool::correlate {
namespace {

TEST(CorrelatorPeer, OutsideOurPidNamespaceIsTrusted) {
  // The correlator in the host's pid namespace, seen from a container: pid 0, and its uid may
  // be unmapped (65534) in a user namespace.
  EXPECT_TRUE(trust_abstract_peer({0, 0, std::nullopt}));
  EXPECT_TRUE(trust_abstract_peer({0, 65534, std::nullopt}));
}

TEST(CorrelatorPeer, AVisibleRootProcessElsewhereIsTrusted) {
  // A container sharing the host's pid namespace: the correlator is visible, root, and lives
  // in the host's network namespace.
  EXPECT_TRUE(trust_abstract_peer({4242, 0, false}));
}

TEST(CorrelatorPeer, AProcessOfOurOwnNamespaceIsRefused) {
  // A squatter in the container: it lives in the namespace whose name it holds, root or not.
  EXPECT_FALSE(trust_abstract_peer({17, 0, true}));
  EXPECT_FALSE(trust_abstract_peer({17, 10001, true}));
}

TEST(CorrelatorPeer, ANonRootProcessElsewhereIsRefused) {
  EXPECT_FALSE(trust_abstract_peer({4242, 10001, false}));
}

TEST(CorrelatorPeer, UnknownNamespaceIsRefused) {
  EXPECT_FALSE(trust_abstract_peer({4242, 0, std::nullopt}));
  EXPECT_FALSE(trust_abstract_peer({4242, 10001, std::nullopt}));
}

TEST(CorrelatorPeer, FactsOfASocketPairNameOurselves) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds), 0);
  const UniqueFd a(fds[0]);
  const UniqueFd b(fds[1]);
  const auto facts = peer_facts(a.get());
  ASSERT_TRUE(facts.has_value());
  EXPECT_EQ(facts->pid, ::getpid());
  EXPECT_EQ(facts->uid, ::geteuid());
  ASSERT_TRUE(facts->shares_our_netns.has_value());
  EXPECT_TRUE(*facts->shares_our_netns);
  EXPECT_FALSE(trust_abstract_peer(*facts));
}

}  // namespace
}  // namespace mtool::correlate
