#pragma once
// The correlator as a tool measures with it: the one found at start, or one found later.
//
// A tool never holds back its first probe for a correlator. When none answered at start and
// none was expected, it probes at once as its plain drop-in and looks again (the default
// socket, then the abstract name in its network namespace) at most every 100 ms, when replies
// come in (take / take_many); once one answers and may be trusted, replies from then on are
// corrected. `connected_once()` says whether any correlator was connected during the run:
// ping's summary prints its "replies corrected" line only then, so a container without any
// correlator stays byte-identical to iputils.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "correlate/overhead_source.h"
#include "util/clock.h"

namespace mtool::correlate {

class LazyCorrelator final : public OverheadSource {
 public:
  using Connect = std::function<ConnectAttempt()>;
  // One line for the user ("corrections unavailable: ..."), without the program's name.
  using Notify = std::function<void(const std::string&)>;
  static constexpr Nanos kRetryInterval = std::chrono::milliseconds{100};

  // `source`: the correlator connected at start (null: none); `connect`: how to look again
  // (null: never). The first look comes kRetryInterval after construction: the tool has
  // just looked.
  LazyCorrelator(std::unique_ptr<OverheadSource> source, Connect connect, const Clock& clock,
                 Notify notify);

  std::optional<ProbeOverhead> take(const ProbeIdentity& probe, MonoNs sent_mono) override;
  void take_many(const std::vector<Request>& requests, Answers& answers) override;
  using OverheadSource::take_many;

  [[nodiscard]] bool connected_once() const { return source_ != nullptr; }
  [[nodiscard]] const std::string& via() const { return via_; }

 private:
  // Whether there is a source to ask, looking again if it is time.
  bool ready();

  std::unique_ptr<OverheadSource> source_;
  Connect connect_;
  const Clock& clock_;
  Notify notify_;
  MonoNs last_look_;
  std::string via_;
};

// The source a tool measures with: the correlator `connection` found at start, or (none found,
// none expected) a LazyCorrelator that keeps looking. Null when there is nothing to look for:
// disabled, the host itself, an expected correlator missing, the abstract name held by another
// process (the tool said so already).
std::unique_ptr<LazyCorrelator> correlator_for_run(CorrelatorConnection& connection,
                                                   const Clock& clock,
                                                   LazyCorrelator::Notify notify);

}  // namespace mtool::correlate
