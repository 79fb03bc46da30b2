#pragma once
// Least privilege the iputils way: at start keep only the capabilities a probe socket may
// need (CAP_NET_RAW, CAP_NET_ADMIN) as permitted-but-not-effective, switch to the real uid,
// raise one capability only around the call that needs it, and drop everything before the
// probe loop.
#include <sys/capability.h>

#include <initializer_list>

namespace mtool::net {

class Capabilities {
 public:
  // Reduce the process to permitted {NET_RAW, NET_ADMIN} ∩ what it had, and become the real
  // user and group (real, effective and saved ids). Throws FatalError if the kernel refuses.
  static void limit_to_network();
  // Make `cap` effective (true) or not. Returns false when it is not permitted.
  static bool set_effective(cap_value_t cap, bool on);
  // Drop every capability for good.
  static void drop_all();
  // Keep only `caps` (those of them the process has), permitted and effective; drop the rest
  // for good, ambient ones too. Throws FatalError if the kernel refuses.
  static void keep_only(std::initializer_list<cap_value_t> caps);
  // Whether `cap` is in the permitted set now.
  static bool permitted(cap_value_t cap);
};

// Raises a capability for the lifetime of the guard (no-op when it is not permitted).
class ScopedCapability {
 public:
  explicit ScopedCapability(cap_value_t cap)
      : cap_(cap), raised_(Capabilities::set_effective(cap, true)) {}
  ScopedCapability(const ScopedCapability&) = delete;
  ScopedCapability& operator=(const ScopedCapability&) = delete;
  ~ScopedCapability() {
    if (raised_) Capabilities::set_effective(cap_, false);
  }

 private:
  cap_value_t cap_;
  bool raised_;
};

}  // namespace mtool::net
