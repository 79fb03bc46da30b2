#include "trace/method_factory.h"

#include "trace/icmp_method.h"
#include "trace/tcp_method.h"
#include "trace/udp_method.h"
#include "trace/udp_paris_method.h"

namespace mtool::trace {

std::unique_ptr<ProbeMethod> make_probe_method(TraceMethod method, const MethodSetup& setup,
                                               const Clock& clock) {
  switch (method) {
    case TraceMethod::kUdp:
    case TraceMethod::kUdpFixed: {
      const auto first = static_cast<std::uint16_t>(udp_first_port(method, setup.port));
      if (setup.hold_flows) return std::make_unique<UdpParisMethod>(setup, first, clock);
      return std::make_unique<UdpMethod>(setup, first, method == TraceMethod::kUdp, clock);
    }
    case TraceMethod::kIcmp:
      return std::make_unique<IcmpMethod>(setup, clock);
    case TraceMethod::kTcp:
      return std::make_unique<TcpMethod>(setup, clock);
  }
  return nullptr;
}

unsigned method_flow_count(TraceMethod method, const MethodSetup& setup) {
  switch (method) {
    case TraceMethod::kUdp:
    case TraceMethod::kUdpFixed: {
      const unsigned first = udp_first_port(method, setup.port);
      return first > 65535 ? 0 : 65536 - first;
    }
    case TraceMethod::kIcmp:
      return kIcmpFlowCount;
    case TraceMethod::kTcp:
      return kTcpFlowCount;
  }
  return 0;
}

std::size_t method_header_length(TraceMethod method, int family) {
  const std::size_t ip_header = family == AF_INET6 ? 40 : 20;
  const bool udp = method == TraceMethod::kUdp || method == TraceMethod::kUdpFixed;
  return ip_header + (udp ? 8 : 0);
}

}  // namespace mtool::trace
