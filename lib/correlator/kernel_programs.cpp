#include "correlator/kernel_programs.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/timex.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <unordered_map>

#include "correlator.skel.h"
#include "correlator/private_paths.h"
#include "util/error.h"

namespace mtool::correlator {
namespace {

constexpr int kExitFailure = 1;

[[noreturn]] void fail(const std::string& what, int err) {
  throw FatalError(with_errno(what, err), kExitFailure);
}

bool on_bpffs(const std::string& dir) {
  std::filesystem::path p(dir);
  while (!p.empty() && !std::filesystem::exists(p)) p = p.parent_path();
  struct statfs fs {};
  return !p.empty() && statfs(p.c_str(), &fs) == 0 && fs.f_type == BPF_FS_MAGIC;
}

struct TracepointProgram {
  bpf_program* program;
  const char* tracepoint;
};

// The programs attached to tracepoints for `kind` (none for the test entry point).
std::vector<TracepointProgram> programs_of(correlator_bpf* s, HookKind kind) {
  switch (kind) {
    case HookKind::kBtfTracepoint:
      return {{s->progs.btf_dev_queue, "net_dev_queue"},
              {s->progs.btf_netif_rx, "netif_rx"},
              {s->progs.btf_receive_skb, "netif_receive_skb"}};
    case HookKind::kRawTracepoint:
      return {{s->progs.raw_dev_queue, "net_dev_queue"},
              {s->progs.raw_netif_rx, "netif_rx"},
              {s->progs.raw_receive_skb, "netif_receive_skb"}};
    case HookKind::kTest:
      break;
  }
  return {};
}

correlator_bpf* open_skeleton(const std::string& pin_dir, std::uint64_t host_netns,
                              const ProgramTuning& tuning) {
  LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir.c_str());
  correlator_bpf* s = correlator_bpf__open_opts(&opts);
  if (s == nullptr) fail("cannot open the BPF object", errno);
  s->rodata->host_netns = host_netns;
  const std::uint64_t interval =
      kNsPerSec / std::max<std::uint32_t>(tuning.namespace_probe_rate, 1);
  s->rodata->probe_interval_ns = interval;
  s->rodata->probe_burst_ns = MTOOL_NAMESPACE_PROBE_BURST * interval;
  s->rodata->follow_host_probes = tuning.follow_host_probes;
  s->rodata->keep_histograms = tuning.namespace_histograms;
  return s;
}

void load_only(correlator_bpf* s, const std::vector<bpf_program*>& wanted) {
  bpf_program* p = nullptr;
  bpf_object__for_each_program(p, s->obj) {
    bool keep = false;
    for (auto* w : wanted) keep = keep || w == p;
    bpf_program__set_autoload(p, keep);
  }
}

bool pins_exist(const std::string& pin_dir) {
  return std::filesystem::exists(pin_dir + "/" MTOOL_MAP_RECORDS);
}

// What `wanted` would be, against the map pinned in its place (`fd`): "" when they
// agree, else how they differ ("14 entries where 13 are pinned").
std::string layout_difference(const bpf_map* wanted, int fd) {
  bpf_map_info pinned{};
  std::uint32_t length = sizeof pinned;
  if (bpf_obj_get_info_by_fd(fd, &pinned, &length) != 0)
    return "unreadable (" + errno_text(errno) + ")";
  const auto differs = [](const char* what, std::uint32_t want, std::uint32_t have) {
    return what + std::string(" ") + std::to_string(want) + " where " + std::to_string(have) +
           " is pinned";
  };
  if (pinned.type != static_cast<std::uint32_t>(bpf_map__type(wanted)))
    return differs("type", bpf_map__type(wanted), pinned.type);
  if (pinned.key_size != bpf_map__key_size(wanted))
    return differs("key size", bpf_map__key_size(wanted), pinned.key_size);
  if (pinned.value_size != bpf_map__value_size(wanted))
    return differs("value size", bpf_map__value_size(wanted), pinned.value_size);
  if (pinned.max_entries != bpf_map__max_entries(wanted))
    return differs("entries", bpf_map__max_entries(wanted), pinned.max_entries);
  if (pinned.map_flags != bpf_map__map_flags(wanted))
    return differs("flags", bpf_map__map_flags(wanted), pinned.map_flags);
  return "";
}

// Pins left by a correlator of another layout (a map grew: the counters gained
// MTOOL_CTR_HISTOGRAMS_FULL) would make libbpf refuse to load with a bare EINVAL. Under the pin
// directory's lock no correlator's programs write them, so each is unpinned, and the load pins
// a fresh one in its place (its figures start from zero; a tool holding the old one keeps a
// map nobody writes, as after any restart). Returns "NAME (how it differed)" per map replaced.
std::vector<std::string> replace_outdated_pins(correlator_bpf* s) {
  std::vector<std::string> replaced;
  bpf_map* map = nullptr;
  bpf_object__for_each_map(map, s->obj) {
    const char* path = bpf_map__pin_path(map);
    if (path == nullptr) continue;
    const UniqueFd pinned(bpf_obj_get(path));
    if (!pinned) continue;
    const std::string difference = layout_difference(map, pinned.get());
    if (difference.empty()) continue;
    if (::unlink(path) != 0) {
      throw FatalError(std::string("the map pinned at ") + path + " is of another mtool version (" +
                           difference + ") and cannot be removed (" + errno_text(errno) +
                           "): remove it, or the whole directory, by hand",
                       kExitFailure);
    }
    replaced.push_back(std::string(bpf_map__name(map)) + " (" + difference + ")");
  }
  return replaced;
}

struct Deleted {
  std::uint64_t deleted = 0;
  std::uint64_t left = 0;
};

template <typename Key, typename Fn>
Deleted delete_where(int fd, Fn expired) {
  Deleted out;
  Key key{};
  Key next{};
  bool first = true;
  std::vector<Key> doomed;
  while (bpf_map_get_next_key(fd, first ? nullptr : &key, &next) == 0) {
    first = false;
    key = next;
    if (expired(fd, key)) {
      doomed.push_back(key);
    } else {
      ++out.left;
    }
  }
  for (const Key& k : doomed) {
    if (bpf_map_delete_elem(fd, &k) == 0) ++out.deleted;
  }
  return out;
}

// Sets each subscriber's count of waiting probes to what the sweep found in the map.
void recount_waiting(int subscribers_fd,
                     const std::unordered_map<std::uint64_t, std::int64_t>& counted) {
  std::uint64_t key = 0;
  std::uint64_t next = 0;
  bool first = true;
  while (bpf_map_get_next_key(subscribers_fd, first ? nullptr : &key, &next) == 0) {
    first = false;
    key = next;
    mtool_subscriber subscriber{};
    if (bpf_map_lookup_elem(subscribers_fd, &key, &subscriber) != 0) continue;
    const auto found = counted.find(key);
    const std::int64_t now_waiting = found == counted.end() ? 0 : found->second;
    if (subscriber.waiting == now_waiting) continue;
    subscriber.waiting = now_waiting;
    bpf_map_update_elem(subscribers_fd, &key, &subscriber, BPF_EXIST);
  }
}

}  // namespace

const char* hook_kind_name(HookKind kind) {
  switch (kind) {
    case HookKind::kBtfTracepoint:
      return "tp_btf";
    case HookKind::kRawTracepoint:
      return "raw_tp";
    case HookKind::kTest:
      break;
  }
  return "test";
}

KernelPrograms::KernelPrograms(const std::string& pin_dir, std::uint64_t host_netns,
                               Purpose purpose, const ProgramTuning& tuning) {
  // libbpf's own chatter (verifier logs) only on request; failures are reported below.
  if (std::getenv("MTOOL_BPF_DEBUG") == nullptr) libbpf_set_print(nullptr);
  if (!on_bpffs(pin_dir)) {
    throw FatalError(pin_dir + " is not on a BPF filesystem (mount -t bpf bpf /sys/fs/bpf)",
                     kExitFailure);
  }
  prepare_pin_dir(pin_dir);
  // One correlator per pin directory: two would attach twice to the same maps and count
  // every probe twice. The lock goes with the process, however it ends.
  if (purpose == Purpose::kTrace) {
    pin_lock_.reset(open(pin_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!pin_lock_ || flock(pin_lock_.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) throw FatalError("already running on " + pin_dir, kExitFailure);
      fail("cannot lock " + pin_dir, errno);
    }
  }
  reused_pins_ = pins_exist(pin_dir);
  if (purpose == Purpose::kTrace) {
    correlator_bpf* layouts = open_skeleton(pin_dir, host_netns, tuning);
    try {
      replaced_pins_ = replace_outdated_pins(layouts);
    } catch (...) {
      correlator_bpf__destroy(layouts);
      throw;
    }
    correlator_bpf__destroy(layouts);
  }

  int err = 0;
  if (purpose == Purpose::kTest) {
    skeleton_ = open_skeleton(pin_dir, host_netns, tuning);
    load_only(skeleton_, {skeleton_->progs.test_crossing});
    if ((err = correlator_bpf__load(skeleton_)) != 0)
      fail("cannot load the BPF test program", -err);
    hook_kind_ = HookKind::kTest;
  } else {
    // BTF tracepoints first (cheapest typed access); raw tracepoints where they do not load.
    for (const HookKind kind : {HookKind::kBtfTracepoint, HookKind::kRawTracepoint}) {
      skeleton_ = open_skeleton(pin_dir, host_netns, tuning);
      std::vector<bpf_program*> wanted;
      for (const auto& tp : programs_of(skeleton_, kind)) wanted.push_back(tp.program);
      load_only(skeleton_, wanted);
      err = correlator_bpf__load(skeleton_);
      if (err == 0) {
        hook_kind_ = kind;
        break;
      }
      correlator_bpf__destroy(skeleton_);
      skeleton_ = nullptr;
    }
    if (skeleton_ == nullptr) {
      if (-err == EINVAL && reused_pins_) {
        throw FatalError("cannot load the BPF programs: maps pinned in " + pin_dir +
                             " do not match this version (remove the directory to start afresh)",
                         kExitFailure);
      }
      fail(
          "cannot load the BPF programs (needs CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN, or "
          "CAP_SYS_ADMIN)",
          -err);
    }
    for (const auto& tp : programs_of(skeleton_, hook_kind_)) {
      bpf_link* link = bpf_program__attach(tp.program);
      if (link == nullptr) {
        const int attach_err = errno;
        for (auto* l : links_) bpf_link__destroy(l);
        links_.clear();
        correlator_bpf__destroy(skeleton_);
        skeleton_ = nullptr;
        fail(std::string("cannot attach to tracepoint ") + tp.tracepoint, attach_err);
      }
      links_.push_back(link);
    }
  }
  host_netns_ = host_netns;
  host_measured_ = tuning.follow_host_probes;
  publish_info();
}

void KernelPrograms::publish_info() {
  write_info(static_cast<std::uint64_t>(raw_ns(SystemClock{}.mono_now())));
}

void KernelPrograms::write_info(std::uint64_t heartbeat_ns) {
  timex clock{};
  adjtimex(&clock);  // read-only (modes 0): the kernel's TAI offset
  // A measured host is published as no host at all: its tools then take records as any
  // namespace's do.
  const mtool_info info{MTOOL_ABI_VERSION, clock.tai, host_measured_ ? 0 : host_netns_,
                        heartbeat_ns};
  const std::uint32_t zero = 0;
  bpf_map__update_elem(skeleton_->maps.info_map, &zero, sizeof zero, &info, sizeof info, BPF_ANY);
}

KernelPrograms::~KernelPrograms() {
  // The maps stay pinned for the next start; tools must not take them for a running correlator.
  if (skeleton_ != nullptr && pin_lock_) write_info(0);
  for (auto* l : links_) bpf_link__destroy(l);
  if (skeleton_ != nullptr) correlator_bpf__destroy(skeleton_);
}

void KernelPrograms::set_uplinks(const std::vector<std::uint32_t>& ifindexes) {
  const int fd = bpf_map__fd(skeleton_->maps.uplinks);
  std::vector<std::uint32_t> slots(MTOOL_UPLINK_SLOTS, 0);
  for (const auto ifindex : ifindexes) slots[ifindex % MTOOL_UPLINK_SLOTS] = ifindex;
  for (std::uint32_t slot = 0; slot < MTOOL_UPLINK_SLOTS; ++slot) {
    std::uint32_t current = 0;
    if (bpf_map_lookup_elem(fd, &slot, &current) == 0 && current != slots[slot]) {
      bpf_map_update_elem(fd, &slot, &slots[slot], BPF_ANY);
    }
  }
}

void KernelPrograms::subscribe(std::uint64_t netns, MonoNs now) {
  const int fd = bpf_map__fd(skeleton_->maps.subscribers);
  mtool_subscriber subscriber{};
  if (bpf_map_lookup_elem(fd, &netns, &subscriber) != 0) subscriber = {};
  subscriber.refreshed_ns = static_cast<std::uint64_t>(raw_ns(now));
  bpf_map_update_elem(fd, &netns, &subscriber, BPF_ANY);
}

Counters KernelPrograms::counters() const {
  Counters total{};
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return total;
  std::vector<std::uint64_t> per_cpu(static_cast<std::size_t>(cpus));
  const int fd = bpf_map__fd(skeleton_->maps.counters);
  for (std::uint32_t i = 0; i < MTOOL_CTR_COUNT; ++i) {
    if (bpf_map_lookup_elem(fd, &i, per_cpu.data()) != 0) continue;
    for (const auto v : per_cpu) total[i] += v;
  }
  return total;
}

std::vector<ProgramCost> KernelPrograms::costs() const {
  std::vector<ProgramCost> out;
  for (const auto& tp : programs_of(skeleton_, hook_kind_)) {
    bpf_prog_info info{};
    std::uint32_t length = sizeof info;
    if (bpf_obj_get_info_by_fd(bpf_program__fd(tp.program), &info, &length) != 0) continue;
    out.push_back({tp.tracepoint, info.run_cnt, info.run_time_ns});
  }
  return out;
}

SweepResult KernelPrograms::sweep(MonoNs now, bool records) {
  const auto older_than = [now](std::uint64_t stamp, std::int64_t ttl_s) {
    return stamp != 0 &&
           now - mono_from_ns(static_cast<std::int64_t>(stamp)) > std::chrono::seconds{ttl_s};
  };
  SweepResult r;
  std::unordered_map<std::uint64_t, std::int64_t> waiting_per_netns;
  const Deleted waiting = delete_where<mtool_wire_key>(
      bpf_map__fd(skeleton_->maps.waiting), [&](int fd, const mtool_wire_key& k) {
        mtool_flight f{};
        if (bpf_map_lookup_elem(fd, &k, &f) != 0) return false;
        if (older_than(f.last_seen_ns, MTOOL_FLIGHT_TTL_S)) return true;
        ++waiting_per_netns[f.record.key.netns];
        return false;
      });
  r.waiting = waiting.deleted;
  r.waiting_entries = waiting.left;
  recount_waiting(bpf_map__fd(skeleton_->maps.subscribers), waiting_per_netns);
  if (!records) return r;
  const Deleted subscriptions = delete_where<std::uint64_t>(
      bpf_map__fd(skeleton_->maps.subscribers), [&](int fd, const std::uint64_t& k) {
        mtool_subscriber subscriber{};
        return bpf_map_lookup_elem(fd, &k, &subscriber) == 0 &&
               older_than(subscriber.refreshed_ns, MTOOL_SUBSCRIPTION_TTL_S);
      });
  r.subscriptions = subscriptions.deleted;
  r.subscription_entries = subscriptions.left;
  const Deleted records_swept =
      delete_where<mtool_probe_key>(records_fd(), [&](int fd, const mtool_probe_key& k) {
        mtool_record rec{};
        return bpf_map_lookup_elem(fd, &k, &rec) == 0 &&
               older_than(rec.sender_rx_ns, MTOOL_RECORD_TTL_S);
      });
  r.records = records_swept.deleted;
  r.record_entries = records_swept.left;
  return r;
}

int KernelPrograms::records_fd() const { return bpf_map__fd(skeleton_->maps.records); }
int KernelPrograms::devices_fd() const { return bpf_map__fd(skeleton_->maps.devices); }
int KernelPrograms::histograms_fd() const { return bpf_map__fd(skeleton_->maps.histograms); }
int KernelPrograms::test_program_fd() const {
  return bpf_program__fd(skeleton_->progs.test_crossing);
}

}  // namespace mtool::correlator
