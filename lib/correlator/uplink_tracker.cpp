#include "correlator/uplink_tracker.h"

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <ctime>

#include "util/error.h"

namespace mtool::correlator {
namespace {

constexpr int kExitFailure = 1;

std::string name_of(std::uint32_t ifindex) {
  std::array<char, IF_NAMESIZE> name{};
  return if_indextoname(ifindex, name.data()) != nullptr ? std::string(name.data()) : std::string();
}

struct DumpState {
  std::vector<std::uint32_t>* oifs;
};

int route_attribute(const nlattr* attr, void* data) {
  auto** table = static_cast<const nlattr**>(data);
  const int type = mnl_attr_get_type(attr);
  if (mnl_attr_type_valid(attr, RTA_MAX) < 0) return MNL_CB_OK;
  table[type] = attr;
  return MNL_CB_OK;
}

// One route of the dump: keep the output devices of unicast default routes in the main table.
int on_route(const nlmsghdr* nlh, void* data) {
  auto* state = static_cast<DumpState*>(data);
  const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
  std::array<const nlattr*, RTA_MAX + 1> attrs{};
  mnl_attr_parse(nlh, sizeof(*rtm), route_attribute, attrs.data());
  std::uint32_t table = rtm->rtm_table;
  if (attrs[RTA_TABLE] != nullptr && mnl_attr_get_payload_len(attrs[RTA_TABLE]) >= 4) {
    table = mnl_attr_get_u32(attrs[RTA_TABLE]);
  }
  if (rtm->rtm_dst_len != 0 || rtm->rtm_type != RTN_UNICAST || table != RT_TABLE_MAIN)
    return MNL_CB_OK;
  if (attrs[RTA_OIF] != nullptr && mnl_attr_get_payload_len(attrs[RTA_OIF]) >= 4) {
    state->oifs->push_back(mnl_attr_get_u32(attrs[RTA_OIF]));
  }
  if (const nlattr* mp = attrs[RTA_MULTIPATH]; mp != nullptr) {
    const auto* hop = static_cast<const rtnexthop*>(mnl_attr_get_payload(mp));
    int left = static_cast<int>(mnl_attr_get_payload_len(mp));
    while (left >= static_cast<int>(sizeof(rtnexthop)) && hop->rtnh_len >= sizeof(rtnexthop) &&
           hop->rtnh_len <= left) {
      state->oifs->push_back(static_cast<std::uint32_t>(hop->rtnh_ifindex));
      left -= RTNH_ALIGN(hop->rtnh_len);
      hop = RTNH_NEXT(hop);
    }
  }
  return MNL_CB_OK;
}

void dump_default_routes(int family, std::vector<std::uint32_t>& oifs) {
  mnl_socket* nl = mnl_socket_open(NETLINK_ROUTE);
  if (nl == nullptr) return;
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    mnl_socket_close(nl);
    return;
  }
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buffer.data());
  nlh->nlmsg_type = RTM_GETROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  const auto seq = static_cast<unsigned>(time(nullptr));
  nlh->nlmsg_seq = seq;
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = static_cast<unsigned char>(family);
  const unsigned portid = mnl_socket_get_portid(nl);
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) >= 0) {
    DumpState state{&oifs};
    ssize_t n = 0;
    while ((n = mnl_socket_recvfrom(nl, buffer.data(), buffer.size())) > 0) {
      if (mnl_cb_run(buffer.data(), static_cast<std::size_t>(n), seq, portid, on_route, &state) <=
          MNL_CB_STOP)
        break;
    }
  }
  mnl_socket_close(nl);
}

}  // namespace

UplinkTracker::UplinkTracker(std::vector<std::string> fixed) : fixed_(std::move(fixed)) {
  events_.reset(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE));
  if (!events_) throw FatalError(with_errno("netlink socket", errno), kExitFailure);
  sockaddr_nl address{};
  address.nl_family = AF_NETLINK;
  address.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;
  if (bind(events_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    throw FatalError(with_errno("netlink bind", errno), kExitFailure);
  }
}

bool UplinkTracker::drain() {
  std::array<char, 8192> buffer{};
  bool relevant = false;
  for (;;) {
    const ssize_t n = recv(events_.get(), buffer.data(), buffer.size(), 0);
    if (n < 0) {
      // ENOBUFS: notifications were lost; re-reading the state covers them.
      if (errno == ENOBUFS) relevant = true;
      if (errno == EINTR || errno == ENOBUFS) continue;
      return relevant;
    }
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(buffer.data());
    int left = static_cast<int>(n);
    while (mnl_nlmsg_ok(nlh, left)) {
      const auto type = nlh->nlmsg_type;
      if (type == RTM_NEWLINK || type == RTM_DELLINK || type == RTM_NEWROUTE ||
          type == RTM_DELROUTE) {
        relevant = true;
      }
      nlh = mnl_nlmsg_next(nlh, &left);
    }
  }
}

std::vector<Uplink> UplinkTracker::default_route_devices() const {
  std::vector<std::uint32_t> oifs;
  dump_default_routes(AF_INET, oifs);
  dump_default_routes(AF_INET6, oifs);
  std::sort(oifs.begin(), oifs.end());
  oifs.erase(std::unique(oifs.begin(), oifs.end()), oifs.end());
  std::vector<Uplink> out;
  out.reserve(oifs.size());
  for (const auto ifindex : oifs) out.push_back({ifindex, name_of(ifindex)});
  return out;
}

std::vector<Uplink> UplinkTracker::current() const {
  if (fixed_.empty()) return default_route_devices();
  std::vector<Uplink> out;
  for (const auto& name : fixed_) {
    if (const unsigned ifindex = if_nametoindex(name.c_str()); ifindex != 0)
      out.push_back({ifindex, name});
  }
  return out;
}

}  // namespace mtool::correlator
