#pragma once
// The correlator's kernel side as user space holds it: loads bpf/correlator.bpf.c (BTF
// tracepoints, or raw tracepoints where those do not load), pins the shared maps (reusing
// maps already pinned, so tools keep their descriptors across restarts), attaches, and
// reads back counters and per-program cost. Destroying it detaches; the pins stay.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "correlator_abi.h"
#include "util/clock.h"
#include "util/fd.h"

struct correlator_bpf;
struct bpf_link;

namespace mtool::correlator {

struct ProgramCost {
  std::string tracepoint;
  std::uint64_t events = 0;
  std::uint64_t run_time_ns = 0;  // 0 unless kernel.bpf_stats_enabled
};

struct SweepResult {
  // Deleted:
  std::uint64_t waiting = 0;        // probes never answered
  std::uint64_t records = 0;        // records nobody took
  std::uint64_t subscriptions = 0;  // namespaces whose tools went away
  // Left in the maps swept (records and subscriptions only when they were swept):
  std::uint64_t waiting_entries = 0;
  std::uint64_t record_entries = 0;
  std::uint64_t subscription_entries = 0;
};

using Counters = std::array<std::uint64_t, MTOOL_CTR_COUNT>;

// How the programs are attached: BTF tracepoints (typed, cheapest), raw tracepoints where those
// do not load, or not at all (the test entry point, run by BPF_PROG_TEST_RUN).
enum class HookKind { kBtfTracepoint, kRawTracepoint, kTest };
// "tp_btf", "raw_tp" (the libbpf section names the log line has always said), "test".
const char* hook_kind_name(HookKind kind);

// What the programs are loaded with (read-only data: fixed until the next load).
struct ProgramTuning {
  // Probes a second followed for each namespace.
  std::uint32_t namespace_probe_rate = MTOOL_NAMESPACE_PROBE_RATE_DEFAULT;
  // Tests and benchmarks only: follow the host's own probes from the uplink's transmission to
  // its reception, and publish the host namespace as one like any other, so a host-run tool
  // gets its wire time too (what proves a benchmark's target fair).
  bool follow_host_probes = false;
  // Count each completed record in its namespace's histograms (`--metrics`).
  bool namespace_histograms = false;
};

class KernelPrograms {
 public:
  enum class Purpose { kTrace, kTest };

  // Throws FatalError with a one-line reason (bpffs missing, no privilege, incompatible pins).
  // `host_netns` is the host's network namespace cookie.
  KernelPrograms(const std::string& pin_dir, std::uint64_t host_netns,
                 Purpose purpose = Purpose::kTrace, const ProgramTuning& tuning = {});
  ~KernelPrograms();
  KernelPrograms(const KernelPrograms&) = delete;
  KernelPrograms& operator=(const KernelPrograms&) = delete;

  [[nodiscard]] HookKind hook_kind() const { return hook_kind_; }
  [[nodiscard]] bool reused_pins() const { return reused_pins_; }
  // Pinned maps of another layout that this start unpinned and pinned afresh: "NAME (how it
  // differed)" each.
  [[nodiscard]] const std::vector<std::string>& replaced_pins() const { return replaced_pins_; }

  void set_uplinks(const std::vector<std::uint32_t>& ifindexes);
  // (Re)writes the info map: ABI version, host namespace, the kernel's TAI offset (which a
  // leap second or a time daemon may change; the daemon calls this every second) and the
  // heartbeat by which tools tell a running correlator's pins from a stopped one's.
  void publish_info();
  // Follow probes from `netns` (refreshes the subscription's time, keeps its quota state).
  void subscribe(std::uint64_t netns, MonoNs now);
  [[nodiscard]] Counters counters() const;
  [[nodiscard]] std::vector<ProgramCost> costs() const;
  // Deletes what has waited too long: probes gone out unanswered after MTOOL_FLIGHT_TTL_S,
  // and, if `records`, records after MTOOL_RECORD_TTL_S (the larger map, swept less often)
  // and subscriptions after MTOOL_SUBSCRIPTION_TTL_S. Recounts each namespace's waiting
  // probes, so its quota follows what is really there (entries the programs added and the
  // sweep removed, or replaced, drift otherwise).
  SweepResult sweep(MonoNs now, bool records);

  [[nodiscard]] int records_fd() const;
  [[nodiscard]] int devices_fd() const;
  [[nodiscard]] int histograms_fd() const;  // filled only with ProgramTuning::namespace_histograms
  [[nodiscard]] int test_program_fd() const;  // Purpose::kTest only

 private:
  void write_info(std::uint64_t heartbeat_ns);

  correlator_bpf* skeleton_ = nullptr;
  std::vector<::bpf_link*> links_;
  HookKind hook_kind_ = HookKind::kTest;
  std::uint64_t host_netns_ = 0;
  bool host_measured_ = false;  // ProgramTuning::follow_host_probes
  UniqueFd pin_lock_;           // flock on the pin directory: one correlator per directory
  bool reused_pins_ = false;
  std::vector<std::string> replaced_pins_;
};

}  // namespace mtool::correlator
