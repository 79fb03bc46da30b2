#pragma once
// iputils ping's words for ICMP errors and notices ("Destination Host Unreachable", ...).
#include <cstdint>
#include <string>

namespace mtool::report {

// Text after "From X icmp_seq=N " for an ICMP (IPv4) or ICMPv6 message, without newline.
// `info` is the MTU / pointer / gateway the kernel or the header reported.
std::string describe_icmp(int family, std::uint8_t type, std::uint8_t code, std::uint32_t info);

}  // namespace mtool::report
