#include "commands/mda_trace.h"

#include <cstdio>
#include <random>

#include "report/mda_output.h"
#include "trace/mda_explorer.h"
#include "trace/mda_scheduler.h"
#include "trace/method_factory.h"

namespace mtool::commands {

int run_multipath_discovery(const MdaTraceInputs& in) {
  const trace::TraceOptions& o = in.options;
  trace::MdaConfig config;
  config.first_hop = o.first_hop;
  config.max_hops = o.max_hops;
  config.confidence = o.mda.value_or(trace::kDefaultMdaConfidence);
  // Without --mda-seed, a fresh one, printed in the header so the run can be repeated.
  config.seed = o.mda_seed ? *o.mda_seed : std::random_device{}();
  config.flow_count = trace::method_flow_count(o.method, in.setup);
  trace::MdaExplorer explorer(config);

  trace::MdaScheduleConfig schedule;
  schedule.family = o.family;
  schedule.sim_probes = o.sim_probes;
  schedule.wait_max = Nanos{static_cast<std::int64_t>(o.wait_max_s * 1e9)};
  schedule.send_wait = Nanos{static_cast<std::int64_t>(o.send_wait_s * 1e9)};
  trace::MdaScheduler scheduler(schedule, explorer, in.method, in.clock, in.overheads);
  scheduler.run();

  const report::TraceHeader header{o.host, in.setup.destination.to_string(), o.max_hops,
                                   in.method.packet_length()};
  if (o.json) {
    std::printf("%s\n", report::mda_json(header, explorer.graph()).c_str());
    std::fflush(stdout);
  } else {
    net::AddressNamer namer(o.numeric, true);
    report::print_mda_text(stdout, namer, header, explorer.graph());
  }
  return 0;
}

}  // namespace mtool::commands
