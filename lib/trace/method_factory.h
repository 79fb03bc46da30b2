#pragma once
// The probing method a trace uses, built from its kind and setup: one place for traceroute's
// -M/-U/-I/-T and for a campaign's "protocol".
#include <memory>

#include "trace/method_common.h"
#include "trace/probe_method.h"
#include "trace/trace_options.h"

namespace mtool::trace {

// Opens the method's sockets; throws FatalError (Butskoy's runtime error) when it cannot.
std::unique_ptr<ProbeMethod> make_probe_method(TraceMethod method, const MethodSetup& setup,
                                               const Clock& clock);

// How many flows (ids 0 .. count - 1) the method holds apart: UDP from its first port to 65535;
// ICMP one checksum per flow, 0xFFFF excepted; TCP a source port per flow, each held by an idle
// socket for the whole trace, so few enough to stay far below the descriptor limit.
inline constexpr unsigned kIcmpFlowCount = 0xFFFE;
inline constexpr unsigned kTcpFlowCount = 512;
unsigned method_flow_count(TraceMethod method, const MethodSetup& setup);

// Butskoy's packet length accounting: the IP header plus the method's own (UDP: 8 bytes).
std::size_t method_header_length(TraceMethod method, int family);

}  // namespace mtool::trace
