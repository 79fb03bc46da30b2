// The campaign's table of runs in progress: handles that go stale when their run ends, slots
// reused without a stale handle ever reaching the new occupant.
#include "campaign/slot_map.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mtool::campaign {
namespace {

TEST(SlotMap, AHandleFindsItsObjectUntilItIsTaken) {
  SlotMap<std::string> map;
  const SlotHandle a = map.insert(std::make_unique<std::string>("a"));
  const SlotHandle b = map.insert(std::make_unique<std::string>("b"));
  ASSERT_NE(map.get(a), nullptr);
  EXPECT_EQ(*map.get(a), "a");
  EXPECT_EQ(*map.get(b), "b");
  EXPECT_EQ(map.size(), 2U);

  const auto taken = map.take(a);
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, "a");
  EXPECT_EQ(map.get(a), nullptr);
  EXPECT_EQ(map.take(a), nullptr);  // twice: nothing the second time
  EXPECT_EQ(map.size(), 1U);
}

TEST(SlotMap, AReusedSlotIsNotFoundThroughAnOldHandle) {
  SlotMap<std::string> map;
  const SlotHandle old = map.insert(std::make_unique<std::string>("old"));
  (void)map.take(old);
  const SlotHandle fresh = map.insert(std::make_unique<std::string>("new"));
  EXPECT_EQ(fresh.index, old.index);  // the slot is reused...
  EXPECT_NE(fresh, old);              // ...in a new generation
  EXPECT_EQ(map.get(old), nullptr);
  EXPECT_EQ(map.take(old), nullptr);
  EXPECT_EQ(*map.get(fresh), "new");
}

TEST(SlotMap, TheLastFreedSlotIsReusedFirstAndTheTableGrowsOnlyWhenFull) {
  SlotMap<int> map;
  std::vector<SlotHandle> h;
  for (int i = 0; i < 3; ++i) h.push_back(map.insert(std::make_unique<int>(i)));
  (void)map.take(h[0]);
  (void)map.take(h[2]);
  EXPECT_EQ(map.insert(std::make_unique<int>(7)).index, h[2].index);
  EXPECT_EQ(map.insert(std::make_unique<int>(8)).index, h[0].index);
  EXPECT_EQ(map.insert(std::make_unique<int>(9)).index, 3U);
}

TEST(SlotMap, AnEmptyOrUnknownHandleFindsNothing) {
  SlotMap<int> map;
  EXPECT_TRUE(SlotHandle{}.empty());
  EXPECT_EQ(map.get(SlotHandle{}), nullptr);
  const SlotHandle h = map.insert(std::make_unique<int>(1));
  EXPECT_FALSE(h.empty());
  EXPECT_EQ(map.get(SlotHandle{h.index + 1, h.generation}), nullptr);
  EXPECT_EQ(map.get(SlotHandle{h.index, 0}), nullptr);
}

TEST(SlotMap, ObjectsStayPutWhileTheTableGrows) {
  SlotMap<int> map;
  const SlotHandle first = map.insert(std::make_unique<int>(42));
  const int* address = map.get(first);
  for (int i = 0; i < 1000; ++i) map.insert(std::make_unique<int>(i));
  EXPECT_EQ(map.get(first), address);
}

TEST(SlotMap, ForEachVisitsTheLiveObjectsInSlotOrder) {
  SlotMap<int> map;
  std::vector<SlotHandle> h;
  for (int i = 0; i < 4; ++i) h.push_back(map.insert(std::make_unique<int>(i * 10)));
  (void)map.take(h[1]);
  std::vector<int> seen;
  map.for_each([&](SlotHandle handle, const int& value) {
    EXPECT_EQ(map.get(handle), &value);
    seen.push_back(value);
  });
  EXPECT_EQ(seen, (std::vector<int>{0, 20, 30}));
}

}  // namespace
}  // namespace mtool::campaign
