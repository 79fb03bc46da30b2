#pragma once
// IPv4/IPv6 addresses, name resolution and the "name (address)" rendering iputils uses.
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace mtool::net {

class IpAddress {
 public:
  IpAddress() = default;
  static IpAddress from_sockaddr(const sockaddr* sa, socklen_t len);
  static std::optional<IpAddress> parse(const std::string& text);  // numeric only
  static IpAddress v4(const in_addr& a);
  static IpAddress v6(const in6_addr& a, std::uint32_t scope_id = 0);

  [[nodiscard]] int family() const { return storage_.ss_family; }
  [[nodiscard]] bool is_v4() const { return family() == AF_INET; }
  [[nodiscard]] bool is_v6() const { return family() == AF_INET6; }
  [[nodiscard]] bool empty() const { return family() == AF_UNSPEC; }
  [[nodiscard]] const sockaddr* sockaddr_ptr() const {
    return reinterpret_cast<const sockaddr*>(&storage_);
  }
  [[nodiscard]] socklen_t sockaddr_len() const;
  [[nodiscard]] const in_addr& in4() const { return as_v4().sin_addr; }
  [[nodiscard]] const in6_addr& in6() const { return as_v6().sin6_addr; }
  // Same family and address bytes (ports and scope ignored).
  [[nodiscard]] bool same_host(const IpAddress& other) const;
  [[nodiscard]] std::string to_string() const;  // numeric
  [[nodiscard]] bool is_multicast() const;
  void set_port(std::uint16_t port);
  [[nodiscard]] std::uint16_t port() const;  // host order; 0 for an empty address

 private:
  [[nodiscard]] const sockaddr_in& as_v4() const {
    return *reinterpret_cast<const sockaddr_in*>(&storage_);
  }
  [[nodiscard]] const sockaddr_in6& as_v6() const {
    return *reinterpret_cast<const sockaddr_in6*>(&storage_);
  }
  sockaddr_storage storage_{};
};

struct ResolvedTarget {
  IpAddress address;
  std::string canonical_name;  // getaddrinfo's canonname (may be empty)
};

// getaddrinfo() as ping does it (AI_CANONNAME; AI_IDN where glibc supports it). On failure
// throws FatalError("<host>: <gai_strerror>", 2).
std::vector<ResolvedTarget> resolve_host(const std::string& host, int family);

// "name (address)" or just "address", as iputils' pr_addr(). Reverse lookups are cached so a
// stream of replies from one host costs one lookup.
class AddressNamer {
 public:
  // `always_both`: "name (address)" even when the address has no name ("10.0.0.1 (10.0.0.1)"),
  // as traceroute prints it.
  explicit AddressNamer(bool numeric, bool always_both = false)
      : numeric_(numeric), always_both_(always_both) {}
  const std::string& describe(const IpAddress& address);
  [[nodiscard]] bool numeric() const { return numeric_; }

 private:
  const std::string& describe_uncached(const IpAddress& address);
  bool numeric_;
  bool always_both_;
  std::unordered_map<std::string, std::string> cache_;  // node-based: pointers stay valid
  IpAddress last_address_;
  const std::string* last_ = nullptr;
};

}  // namespace mtool::net
