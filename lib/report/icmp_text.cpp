#include "report/icmp_text.h"

#include <arpa/inet.h>
#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>

namespace mtool::report {
namespace {

std::string n(unsigned value) { return std::to_string(value); }

std::string describe_v4(std::uint8_t type, std::uint8_t code, std::uint32_t info) {
  switch (type) {
    case ICMP_ECHOREPLY:
      return "Echo Reply";
    case ICMP_DEST_UNREACH:
      switch (code) {
        case ICMP_NET_UNREACH:
          return "Destination Net Unreachable";
        case ICMP_HOST_UNREACH:
          return "Destination Host Unreachable";
        case ICMP_PROT_UNREACH:
          return "Destination Protocol Unreachable";
        case ICMP_PORT_UNREACH:
          return "Destination Port Unreachable";
        case ICMP_FRAG_NEEDED:
          return "Frag needed and DF set (mtu = " + n(info) + ")";
        case ICMP_SR_FAILED:
          return "Source Route Failed";
        case ICMP_NET_UNKNOWN:
          return "Destination Net Unknown";
        case ICMP_HOST_UNKNOWN:
          return "Destination Host Unknown";
        case ICMP_HOST_ISOLATED:
          return "Source Host Isolated";
        case ICMP_NET_ANO:
          return "Destination Net Prohibited";
        case ICMP_HOST_ANO:
          return "Destination Host Prohibited";
        case ICMP_NET_UNR_TOS:
          return "Destination Net Unreachable for Type of Service";
        case ICMP_HOST_UNR_TOS:
          return "Destination Host Unreachable for Type of Service";
        case ICMP_PKT_FILTERED:
          return "Packet filtered";
        case ICMP_PREC_VIOLATION:
          return "Precedence Violation";
        case ICMP_PREC_CUTOFF:
          return "Precedence Cutoff";
        default:
          return "Dest Unreachable, Bad Code: " + n(code);
      }
    case ICMP_SOURCE_QUENCH:
      return "Source Quench";
    case ICMP_REDIRECT: {
      std::string text;
      switch (code) {
        case ICMP_REDIR_NET:
          text = "Redirect Network";
          break;
        case ICMP_REDIR_HOST:
          text = "Redirect Host";
          break;
        case ICMP_REDIR_NETTOS:
          text = "Redirect Type of Service and Network";
          break;
        case ICMP_REDIR_HOSTTOS:
          text = "Redirect Type of Service and Host";
          break;
        default:
          text = "Redirect, Bad Code: " + n(code);
          break;
      }
      in_addr gateway{htonl(info)};
      char buf[INET_ADDRSTRLEN] = "";
      inet_ntop(AF_INET, &gateway, buf, sizeof buf);
      return text + "(New nexthop: " + buf + ")";
    }
    case ICMP_ECHO:
      return "Echo Request";
    case ICMP_TIME_EXCEEDED:
      switch (code) {
        case ICMP_EXC_TTL:
          return "Time to live exceeded";
        case ICMP_EXC_FRAGTIME:
          return "Frag reassembly time exceeded";
        default:
          return "Time exceeded, Bad Code: " + n(code);
      }
    case ICMP_PARAMETERPROB:
      return "Parameter problem: pointer = " + n(info);
    case ICMP_TIMESTAMP:
      return "Timestamp";
    case ICMP_TIMESTAMPREPLY:
      return "Timestamp Reply";
    case ICMP_INFO_REQUEST:
      return "Information Request";
    case ICMP_INFO_REPLY:
      return "Information Reply";
    case ICMP_ADDRESS:
      return "Address Mask Request";
    case ICMP_ADDRESSREPLY:
      return "Address Mask Reply";
    default:
      return "Bad ICMP type: " + n(type);
  }
}

std::string describe_v6(std::uint8_t type, std::uint8_t code, std::uint32_t info) {
  switch (type) {
    case ICMP6_DST_UNREACH: {
      std::string text = "Destination unreachable: ";
      switch (code) {
        case ICMP6_DST_UNREACH_NOROUTE:
          return text + "No route";
        case ICMP6_DST_UNREACH_ADMIN:
          return text + "Administratively prohibited";
        case ICMP6_DST_UNREACH_ADDR:
          return text + "Address unreachable";
        case ICMP6_DST_UNREACH_NOPORT:
          return text + "Port unreachable";
        default:
          return text + "Unknown code " + n(code);
      }
    }
    case ICMP6_PACKET_TOO_BIG: {
      std::string text = "Packet too big: mtu=" + n(info);
      if (code != 0) text += ", code=" + n(code);
      return text;
    }
    case ICMP6_TIME_EXCEEDED: {
      std::string text = "Time exceeded: ";
      if (code == ICMP6_TIME_EXCEED_TRANSIT) return text + "Hop limit";
      if (code == ICMP6_TIME_EXCEED_REASSEMBLY) return text + "Defragmentation failure";
      return text + "code " + n(code);
    }
    case ICMP6_PARAM_PROB: {
      std::string text = "Parameter problem: ";
      if (code == ICMP6_PARAMPROB_HEADER) {
        text += "Wrong header field ";
      } else if (code == ICMP6_PARAMPROB_NEXTHEADER) {
        text += "Unknown header ";
      } else if (code == ICMP6_PARAMPROB_OPTION) {
        text += "Unknown option ";
      } else {
        text += "code " + n(code) + " ";
      }
      return text + "at " + n(info);
    }
    case ICMP6_ECHO_REQUEST:
      return "Echo request";
    case ICMP6_ECHO_REPLY:
      return "Echo reply";
    case MLD_LISTENER_QUERY:
      return "MLD Query";
    case MLD_LISTENER_REPORT:
      return "MLD Report";
    case MLD_LISTENER_REDUCTION:
      return "MLD Reduction";
    default:
      return "unknown icmp type: " + n(type);
  }
}

}  // namespace

std::string describe_icmp(int family, std::uint8_t type, std::uint8_t code, std::uint32_t info) {
  return family == AF_INET6 ? describe_v6(type, code, info) : describe_v4(type, code, info);
}

}  // namespace mtool::report
