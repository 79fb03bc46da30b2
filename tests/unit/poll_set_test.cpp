// The loop's wait on pipes: only descriptors with input are handed back, to their readers, in
// the order added; a timeout hands back none.
#include "campaign/poll_set.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "util/fd.h"

namespace mtool::campaign {
namespace {

struct Pipe {
  Pipe() {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    read_end = UniqueFd(fds[0]);
    write_end = UniqueFd(fds[1]);
  }
  void put() { EXPECT_EQ(write(write_end.get(), "x", 1), 1); }
  UniqueFd read_end;
  UniqueFd write_end;
};

TEST(PollSet, HandsBackTheReadersWithInputInTheOrderAdded) {
  Pipe a, b, c;
  PollSet<std::string> set;
  set.add(a.read_end.get(), "a");
  set.add(b.read_end.get(), "b");
  set.add(c.read_end.get(), "c");
  c.put();
  a.put();
  ASSERT_TRUE(set.wait(std::chrono::seconds{1}, nullptr));
  std::vector<std::string> ready;
  set.for_each_ready([&](const std::string& reader) { ready.push_back(reader); });
  EXPECT_EQ(ready, (std::vector<std::string>{"a", "c"}));
}

TEST(PollSet, ATimeoutHandsBackNothingAndANegativeOneOnlyLooks) {
  Pipe a;
  PollSet<int> set;
  set.add(a.read_end.get(), 1);
  EXPECT_FALSE(set.wait(std::chrono::milliseconds{1}, nullptr));
  EXPECT_FALSE(set.wait(std::chrono::seconds{-5}, nullptr));  // a deadline already past
  int calls = 0;
  set.for_each_ready([&](int) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(PollSet, ClearedItWatchesOnlyWhatIsAddedAgain) {
  Pipe a, b;
  PollSet<int> set;
  set.add(a.read_end.get(), 1);
  set.clear();
  set.add(b.read_end.get(), 2);
  EXPECT_EQ(set.size(), 1U);
  a.put();
  b.put();
  ASSERT_TRUE(set.wait(std::chrono::seconds{1}, nullptr));
  std::vector<int> ready;
  set.for_each_ready([&](int reader) { ready.push_back(reader); });
  EXPECT_EQ(ready, std::vector<int>{2});
}

}  // namespace
}  // namespace mtool::campaign
