#include "net/address.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstring>

#include "util/error.h"

namespace mtool::net {

IpAddress IpAddress::from_sockaddr(const sockaddr* sa, socklen_t len) {
  IpAddress a;
  if (sa != nullptr && len > 0) {
    std::memcpy(&a.storage_, sa, std::min<std::size_t>(len, sizeof a.storage_));
  }
  return a;
}

std::optional<IpAddress> IpAddress::parse(const std::string& text) {
  in_addr a4{};
  if (inet_pton(AF_INET, text.c_str(), &a4) == 1) return v4(a4);
  in6_addr a6{};
  if (inet_pton(AF_INET6, text.c_str(), &a6) == 1) return v6(a6);
  return std::nullopt;
}

IpAddress IpAddress::v4(const in_addr& addr) {
  IpAddress a;
  auto* sin = reinterpret_cast<sockaddr_in*>(&a.storage_);
  sin->sin_family = AF_INET;
  sin->sin_addr = addr;
  return a;
}

IpAddress IpAddress::v6(const in6_addr& addr, std::uint32_t scope_id) {
  IpAddress a;
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a.storage_);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_addr = addr;
  sin6->sin6_scope_id = scope_id;
  return a;
}

socklen_t IpAddress::sockaddr_len() const {
  if (is_v4()) return sizeof(sockaddr_in);
  if (is_v6()) return sizeof(sockaddr_in6);
  return 0;
}

bool IpAddress::same_host(const IpAddress& other) const {
  if (family() != other.family()) return false;
  if (is_v4()) return in4().s_addr == other.in4().s_addr;
  if (is_v6()) return std::memcmp(&in6(), &other.in6(), sizeof(in6_addr)) == 0;
  return true;
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = "";
  if (is_v4()) {
    inet_ntop(AF_INET, &in4(), buf, sizeof buf);
  } else if (is_v6()) {
    inet_ntop(AF_INET6, &in6(), buf, sizeof buf);
  }
  return buf;
}

bool IpAddress::is_multicast() const {
  if (is_v4()) return IN_MULTICAST(ntohl(in4().s_addr));
  if (is_v6()) return IN6_IS_ADDR_MULTICAST(&in6());
  return false;
}

std::uint16_t IpAddress::port() const {
  if (is_v4()) return ntohs(as_v4().sin_port);
  if (is_v6()) return ntohs(as_v6().sin6_port);
  return 0;
}

void IpAddress::set_port(std::uint16_t port) {
  if (is_v4()) {
    reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
  } else if (is_v6()) {
    reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
  }
}

std::vector<ResolvedTarget> resolve_host(const std::string& host, int family) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_protocol = IPPROTO_UDP;
  hints.ai_flags = AI_CANONNAME;
  addrinfo* result = nullptr;
  if (const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &result); rc != 0) {
    throw FatalError(host + ": " + gai_strerror(rc), 2);
  }
  std::vector<ResolvedTarget> targets;
  for (const addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    targets.push_back({IpAddress::from_sockaddr(ai->ai_addr, ai->ai_addrlen),
                       ai->ai_canonname != nullptr ? ai->ai_canonname : ""});
  }
  freeaddrinfo(result);
  return targets;
}

const std::string& AddressNamer::describe(const IpAddress& address) {
  // Replies come from one host almost always: answer that case without formatting.
  if (last_ != nullptr && last_address_.same_host(address)) return *last_;
  const std::string& text = describe_uncached(address);
  last_address_ = address;
  last_ = &text;
  return text;
}

const std::string& AddressNamer::describe_uncached(const IpAddress& address) {
  const std::string numeric_text = address.to_string();
  if (const auto it = cache_.find(numeric_text); it != cache_.end()) return it->second;
  std::string text = numeric_text;
  if (!numeric_) {
    char name[NI_MAXHOST] = "";
    const bool named = getnameinfo(address.sockaddr_ptr(), address.sockaddr_len(), name,
                                   sizeof name, nullptr, 0, 0) == 0 &&
                       name[0] != '\0';
    if (named && numeric_text != name) {
      text = std::string(name) + " (" + numeric_text + ")";
    } else if (always_both_) {
      text = numeric_text + " (" + numeric_text + ")";
    }
  }
  return cache_.emplace(numeric_text, std::move(text)).first->second;
}

}  // namespace mtool::net
