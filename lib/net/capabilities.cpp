#include "net/capabilities.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "util/error.h"

namespace mtool::net {
namespace {

struct CapFree {
  void operator()(_cap_struct* c) const { cap_free(c); }
};
using CapPtr = std::unique_ptr<_cap_struct, CapFree>;

CapPtr current() {
  CapPtr caps(cap_get_proc());
  if (!caps) throw FatalError(with_errno("cap_get_proc", errno), 2);
  return caps;
}

bool has(cap_t caps, cap_value_t cap, cap_flag_t set) {
  cap_flag_value_t value = CAP_CLEAR;
  cap_get_flag(caps, cap, set, &value);
  return value == CAP_SET;
}

}  // namespace

void Capabilities::limit_to_network() {
  const CapPtr now = current();
  const CapPtr wanted(cap_init());
  for (cap_value_t cap : {CAP_NET_ADMIN, CAP_NET_RAW}) {
    if (has(now.get(), cap, CAP_PERMITTED)) cap_set_flag(wanted.get(), CAP_PERMITTED, 1, &cap, CAP_SET);
  }
  if (cap_set_proc(wanted.get()) < 0) throw FatalError(with_errno("cap_set_proc", errno), 2);
  // Keep the permitted set across the switch to the real uid (a setuid-root install).
  if (prctl(PR_SET_KEEPCAPS, 1) < 0) throw FatalError(with_errno("prctl", errno), 2);
  if (setuid(getuid()) < 0) throw FatalError(with_errno("setuid", errno), 2);
  if (prctl(PR_SET_KEEPCAPS, 0) < 0) throw FatalError(with_errno("prctl", errno), 2);
}

bool Capabilities::set_effective(cap_value_t cap, bool on) {
  const CapPtr caps = current();
  if (!has(caps.get(), cap, CAP_PERMITTED)) return false;
  cap_set_flag(caps.get(), CAP_EFFECTIVE, 1, &cap, on ? CAP_SET : CAP_CLEAR);
  return cap_set_proc(caps.get()) == 0;
}

void Capabilities::drop_all() {
  const CapPtr none(cap_init());
  if (cap_set_proc(none.get()) < 0) throw FatalError(with_errno("cap_set_proc", errno), 2);
}

void Capabilities::keep_only(std::initializer_list<cap_value_t> caps) {
  const CapPtr now = current();
  const CapPtr kept(cap_init());
  for (cap_value_t cap : caps) {
    if (!has(now.get(), cap, CAP_PERMITTED)) continue;
    cap_set_flag(kept.get(), CAP_PERMITTED, 1, &cap, CAP_SET);
    cap_set_flag(kept.get(), CAP_EFFECTIVE, 1, &cap, CAP_SET);
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (cap_set_proc(kept.get()) < 0) throw FatalError(with_errno("cap_set_proc", errno), 2);
}

bool Capabilities::permitted(cap_value_t cap) { return has(current().get(), cap, CAP_PERMITTED); }

}  // namespace mtool::net
