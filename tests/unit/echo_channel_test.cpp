// A ping campaign's shared echo socket on a fake endpoint: each send gets a sequence number
// nobody holds, owned by its run until released, so replies find their run and packet.
#include "campaign/echo_channel.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <deque>
#include <vector>

namespace mtool::campaign {
namespace {

const SlotHandle kRunA{0, 1};
const SlotHandle kRunB{1, 1};

// Records the sends; hands out queued events; fails the sends it is told to.
class FakeEndpoint final : public EchoEndpoint {
 public:
  struct Send {
    net::IpAddress destination;
    std::size_t datalen = 0;
    std::uint16_t sequence = 0;
    std::uint64_t number = 0;
  };
  int send_echo_to(const net::IpAddress& destination, std::size_t datalen, std::uint16_t sequence,
                   std::uint64_t number) override {
    sends->push_back(Send{destination, datalen, sequence, number});
    return *fail_with;
  }
  std::optional<probe::EchoEvent> next_event() override {
    if (events->empty()) return std::nullopt;
    probe::EchoEvent e = events->front();
    events->pop_front();
    return e;
  }
  [[nodiscard]] std::uint16_t wire_ident() const override { return 0x4242; }
  [[nodiscard]] int fd() const override { return 17; }

  std::vector<Send>* sends;
  std::deque<probe::EchoEvent>* events;
  int* fail_with;
};

class EchoChannelTest : public ::testing::Test {
 protected:
  EchoChannelTest() : channel_(make_endpoint()) {}
  std::unique_ptr<EchoEndpoint> make_endpoint() {
    auto e = std::make_unique<FakeEndpoint>();
    e->sends = &sends_;
    e->events = &events_;
    e->fail_with = &fail_with_;
    return e;
  }
  const net::IpAddress target_ = *net::IpAddress::parse("198.18.0.11");
  std::vector<FakeEndpoint::Send> sends_;
  std::deque<probe::EchoEvent> events_;
  int fail_with_ = 0;
  EchoChannel channel_;
};

TEST(SequenceOwners, HandsOutNumbersInTurnSkippingOwnedOnes) {
  SequenceOwners owners;
  EXPECT_EQ(owners.next_free(), 0);
  owners.claim(1, {kRunA, 0});
  owners.claim(2, {kRunA, 1});
  EXPECT_EQ(owners.next_free(), 3);  // 1 and 2 are held
  owners.release(1);
  EXPECT_EQ(owners.next_free(), 4);  // from after the last one, not the lowest free
  ASSERT_NE(owners.owner(2), nullptr);
  EXPECT_EQ(owners.owner(2)->run, kRunA);
  EXPECT_EQ(owners.owner(2)->packet, 1);
  EXPECT_EQ(owners.owner(1), nullptr);
}

TEST(SequenceOwners, WrapsAroundAndStillSkipsOwnedNumbers) {
  SequenceOwners owners;
  owners.claim(0, {kRunA, 0});
  for (int i = 0; i < 65535; ++i) (void)owners.next_free();  // 0 is skipped: 1..65535
  EXPECT_EQ(owners.next_free(), 1);                          // around, past 0 still held
}

TEST(SequenceOwners, WithEveryNumberOwnedTheNextOneIsHandedOutAnyway) {
  SequenceOwners owners;
  for (std::size_t s = 0; s < SequenceOwners::kSequences; ++s) {
    owners.claim(static_cast<std::uint16_t>(s), {kRunA, 0});
  }
  EXPECT_EQ(owners.next_free(), 0);
  EXPECT_EQ(owners.next_free(), 1);
}

TEST_F(EchoChannelTest, EachSendTakesTheNextFreeNumberForItsRun) {
  const auto a = channel_.send(target_, 48, {kRunA, 0});
  const auto b = channel_.send(target_, 100, {kRunB, 0});
  const auto a2 = channel_.send(target_, 48, {kRunA, 1});
  EXPECT_EQ(a.sequence, 0);
  EXPECT_EQ(b.sequence, 1);
  EXPECT_EQ(a2.sequence, 2);
  ASSERT_EQ(sends_.size(), 3U);
  EXPECT_EQ(sends_[1].datalen, 100U);
  EXPECT_EQ(sends_[2].number, 3U);  // transmit numbers count every send
  EXPECT_TRUE(sends_[0].destination.same_host(target_));
  ASSERT_NE(channel_.owner(2), nullptr);
  EXPECT_EQ(channel_.owner(2)->run, kRunA);
  EXPECT_EQ(channel_.owner(2)->packet, 1);
  EXPECT_EQ(channel_.owner(1)->run, kRunB);
}

TEST_F(EchoChannelTest, AFailedSendOwnsNothing) {
  fail_with_ = ENETUNREACH;
  const auto failed = channel_.send(target_, 48, {kRunA, 0});
  EXPECT_EQ(failed.error, ENETUNREACH);
  EXPECT_EQ(channel_.owner(failed.sequence), nullptr);
  fail_with_ = 0;
  const auto next = channel_.send(target_, 48, {kRunA, 1});
  EXPECT_EQ(next.sequence, failed.sequence + 1);  // the number is not reused at once
  EXPECT_EQ(sends_.back().number, 2U);
}

TEST_F(EchoChannelTest, ReleasedNumbersNoLongerNameTheRun) {
  std::vector<std::uint16_t> held;
  for (unsigned p = 0; p < 3; ++p)
    held.push_back(channel_.send(target_, 48, {kRunA, static_cast<std::uint8_t>(p)}).sequence);
  const auto other = channel_.send(target_, 48, {kRunB, 0});
  channel_.release(held);
  for (const auto s : held) EXPECT_EQ(channel_.owner(s), nullptr);
  EXPECT_EQ(channel_.owner(other.sequence)->run, kRunB);
}

TEST_F(EchoChannelTest, EventsAndTheSocketComeFromTheEndpoint) {
  probe::EchoReplyEvent reply;
  reply.sequence = 5;
  events_.push_back(reply);
  const auto event = channel_.next_event();
  ASSERT_TRUE(event);
  EXPECT_EQ(std::get<probe::EchoReplyEvent>(*event).sequence, 5);
  EXPECT_FALSE(channel_.next_event());
  EXPECT_EQ(channel_.wire_ident(), 0x4242);
  EXPECT_EQ(channel_.fd(), 17);
}

}  // namespace
}  // namespace mtool::campaign
