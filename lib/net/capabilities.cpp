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
    if (has(now.get(), cap, CAP_PERMITTED))
      cap_set_flag(wanted.get(), CAP_PERMITTED, 1, &cap, CAP_SET);
  }
  // Become the real user and group for good: real, effective and saved ids, so a setuid or
  // setgid install cannot switch back (setuid() without CAP_SETUID would leave the saved uid
  // 0). Done while CAP_SETUID/CAP_SETGID are still there; the permitted set is kept across the
  // switch (a setuid-root install) and reduced after it.
  if (prctl(PR_SET_KEEPCAPS, 1) < 0) throw FatalError(with_errno("prctl", errno), 2);
  gid_t rgid = 0;
  gid_t egid = 0;
  gid_t sgid = 0;
  if (getresgid(&rgid, &egid, &sgid) < 0) throw FatalError(with_errno("getresgid", errno), 2);
  if ((egid != rgid || sgid != rgid) && setresgid(rgid, rgid, rgid) < 0) {
    throw FatalError(with_errno("setresgid", errno), 2);
  }
  const uid_t uid = getuid();
  if (setresuid(uid, uid, uid) < 0) throw FatalError(with_errno("setresuid", errno), 2);
  if (prctl(PR_SET_KEEPCAPS, 0) < 0) throw FatalError(with_errno("prctl", errno), 2);
  if (cap_set_proc(wanted.get()) < 0) throw FatalError(with_errno("cap_set_proc", errno), 2);
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
