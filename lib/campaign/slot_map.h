#pragma once
// The runs in progress, each addressed by a handle that goes stale when its run ends. Whatever
// keeps a handle past that (a timer, a sequence number's owner, a reply awaiting its
// correction) then finds nothing, never the run that reused the slot: removing an object moves
// its slot to the next generation, and a handle names a slot and a generation.
//
// Objects are held by unique_ptr so their addresses stay put while the table grows (a run being
// stepped may start another). A freed slot is reused first (last freed, first reused), so the
// table is only as large as the most runs ever in progress at once.
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace mtool::campaign {

struct SlotHandle {
  std::uint32_t index = 0;
  std::uint32_t generation = 0;  // 0: no object (generations start at 1)
  [[nodiscard]] bool empty() const { return generation == 0; }
  bool operator==(const SlotHandle&) const = default;
};

template <typename T>
class SlotMap {
 public:
  SlotHandle insert(std::unique_ptr<T> value) {
    std::uint32_t index = 0;
    if (!free_.empty()) {
      index = free_.back();
      free_.pop_back();
    } else {
      index = static_cast<std::uint32_t>(slots_.size());
      slots_.emplace_back();
    }
    slots_[index].value = std::move(value);
    ++size_;
    return SlotHandle{index, slots_[index].generation};
  }

  // The object `handle` names, or nullptr when it has been removed since.
  [[nodiscard]] T* get(SlotHandle handle) const {
    if (handle.index >= slots_.size()) return nullptr;
    const Slot& slot = slots_[handle.index];
    return slot.generation == handle.generation ? slot.value.get() : nullptr;
  }

  // Removes the object `handle` names and hands it over (nullptr when it is gone already).
  std::unique_ptr<T> take(SlotHandle handle) {
    if (get(handle) == nullptr) return nullptr;
    Slot& slot = slots_[handle.index];
    ++slot.generation;
    if (slot.generation == 0) slot.generation = 1;  // 0 means no object
    free_.push_back(handle.index);
    --size_;
    return std::move(slot.value);
  }

  [[nodiscard]] std::size_t size() const { return size_; }

  // f(handle, object) for every object, in slot order.
  template <typename F>
  void for_each(F&& f) const {
    for (std::uint32_t i = 0; i < slots_.size(); ++i) {
      if (slots_[i].value) f(SlotHandle{i, slots_[i].generation}, *slots_[i].value);
    }
  }

 private:
  struct Slot {
    std::unique_ptr<T> value;
    std::uint32_t generation = 1;
  };
  std::vector<Slot> slots_;
  std::vector<std::uint32_t> free_;
  std::size_t size_ = 0;
};

}  // namespace mtool::campaign
