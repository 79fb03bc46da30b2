#include "correlate/overhead_source.h"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "correlate/correlator_peer.h"
#include "net/netns_cookie.h"
#include "pinned_maps/record_reader.h"
#include "util/error.h"
#include "util/fd.h"

namespace mtool::correlate {
namespace {

constexpr Nanos kReconnectInterval = std::chrono::milliseconds{100};  // a failed connect() is cheap
constexpr int kSocketTimeoutMs = 200;

MonoNs mono_now() { return SystemClock{}.mono_now(); }

mtool_probe_key key_of(const ProbeIdentity& probe, std::uint64_t netns) {
  mtool_probe_key key{};
  key.netns = netns;
  key.family = static_cast<std::uint8_t>(probe.family);
  key.protocol = static_cast<std::uint8_t>(probe.protocol);
  key.flow = probe.flow;
  key.sequence = probe.sequence;
  key.checksum = probe.checksum;
  return key;
}

// A record belongs to this probe only if its device transmission came after the send call;
// identifiers and sequences repeat, records of earlier probes may linger.
bool fresh(const mtool_record& record, MonoNs sent_mono) {
  const MonoNs sender_tx = mono_from_ns(static_cast<std::int64_t>(record.sender_tx_ns));
  return sender_tx >= sent_mono && sender_tx <= mono_now();
}

class PinnedMapSource final : public OverheadSource {
 public:
  PinnedMapSource(UniqueFd records, UniqueFd devices, UniqueFd subscribers, std::uint64_t netns)
      : records_(std::move(records)),
        devices_(std::move(devices)),
        subscribers_(std::move(subscribers)),
        reader_(records_.get(), devices_.get()),
        netns_(netns) {
    subscribe();
  }

  std::optional<ProbeOverhead> take(const ProbeIdentity& probe, MonoNs sent_mono) override {
    if (mono_now() - subscribed_at_ > std::chrono::seconds{MTOOL_SUBSCRIPTION_REFRESH_S})
      subscribe();
    const mtool_probe_key key = key_of(probe, netns_);
    mtool_record record{};
    std::array<mtool_device_name, MTOOL_NAMED_CROSSINGS> names{};
    if (!reader_.take(key, record, names.data())) return std::nullopt;
    if (!fresh(record, sent_mono)) return std::nullopt;
    return overhead_from_record(record, names.data());
  }

 private:
  // Ask the correlator to follow this namespace's probes (it forgets after
  // MTOOL_SUBSCRIPTION_TTL_S without a refresh).
  void subscribe() {
    subscribed_at_ = mono_now();
    mtool_subscriber subscriber{};
    if (bpf_map_lookup_elem(subscribers_.get(), &netns_, &subscriber) != 0) subscriber = {};
    subscriber.refreshed_ns = static_cast<std::uint64_t>(raw_ns(subscribed_at_));
    bpf_map_update_elem(subscribers_.get(), &netns_, &subscriber, BPF_ANY);
  }

  UniqueFd records_;
  UniqueFd devices_;
  UniqueFd subscribers_;
  pinned_maps::RecordReader reader_;
  std::uint64_t netns_;
  MonoNs subscribed_at_{};
};

// Where the correlator's socket is: a file, or an abstract name in the caller's network
// namespace (checked before it is trusted: correlate/correlator_peer.h).
struct SocketEndpoint {
  std::string name;
  bool abstract = false;
  [[nodiscard]] std::string describe() const { return abstract ? "@" + name : name; }
};

class SocketSource final : public OverheadSource {
 public:
  explicit SocketSource(SocketEndpoint endpoint)
      : endpoint_(std::move(endpoint)), path_(endpoint_.describe()) {}

  // Connects and asks where the correlator sees us; the answer is read by finish_hello(), so
  // the daemon works on it while the tool does its own setup. Returns "" or why it failed.
  std::string send_hello() {
    if (!connect_now()) return with_errno("cannot connect to " + path_, last_error_);
    if (!send_query(MTOOL_QUERY_HELLO, ProbeIdentity{})) {
      return with_errno("no answer from " + path_, last_error_);
    }
    return {};
  }

  // Whether connect() ever succeeded: a correlator listens there (a dead one's socket file
  // refuses connections).
  [[nodiscard]] bool reached() const { return reached_; }
  // The pid of a process that held the abstract name and was not trusted (0: none was).
  [[nodiscard]] pid_t refused_pid() const { return refused_pid_; }
  [[nodiscard]] const std::string& where() const { return path_; }

  std::string finish_hello(bool& host_namespace) {
    mtool_answer answer{};
    if (!receive_answer(answer)) return with_errno("no answer from " + path_, last_error_);
    host_namespace = answer.caller_in_host_netns != 0;
    return {};
  }

  std::optional<ProbeOverhead> take(const ProbeIdentity& probe, MonoNs sent_mono) override {
    mtool_answer answer{};
    if (!connected() || !ask(MTOOL_QUERY_RECORD, probe, answer)) return std::nullopt;
    return overhead_of(answer, sent_mono);
  }

  void take_many(const std::vector<Request>& requests, Answers& answers) override {
    answers.assign(requests.size(), std::nullopt);
    if (requests.empty() || !connected()) return;
    // All queries first (each is one small SEQPACKET message), then the answers, in order.
    std::size_t sent = 0;
    for (; sent < requests.size(); ++sent) {
      if (!send_query(MTOOL_QUERY_RECORD, requests[sent].probe)) break;
    }
    for (std::size_t i = 0; i < sent; ++i) {
      mtool_answer answer{};
      if (!receive_answer(answer)) break;
      answers[i] = overhead_of(answer, requests[i].sent_mono);
    }
  }

 private:
  // Whether there is a connection, reconnecting when the correlator went away (a restart): at
  // most every 100 ms, not on every reply.
  bool connected() {
    if (fd_) return true;
    return mono_now() - last_attempt_ >= kReconnectInterval && connect_now();
  }

  static std::optional<ProbeOverhead> overhead_of(const mtool_answer& answer, MonoNs sent_mono) {
    if (answer.status != MTOOL_ANSWER_FOUND || !fresh(answer.record, sent_mono))
      return std::nullopt;
    return overhead_from_record(answer.record, answer.names);
  }

  // connect() without waiting (a full backlog says EAGAIN at once), then blocking I/O with
  // timeouts. Every connection to the abstract name is checked, reconnections too: a process
  // may take the name while the correlator restarts.
  bool connect_now() {
    last_attempt_ = mono_now();
    UniqueFd fd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) {
      last_error_ = errno;
      return false;
    }
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string& name = endpoint_.name;
    const std::size_t offset = endpoint_.abstract ? 1 : 0;  // sun_path[0] = 0: abstract
    if (offset + name.size() >= sizeof(address.sun_path)) {
      last_error_ = ENAMETOOLONG;
      return false;
    }
    std::memcpy(address.sun_path + offset, name.data(), name.size());
    const auto length = static_cast<socklen_t>(
        endpoint_.abstract ? offsetof(sockaddr_un, sun_path) + 1 + name.size() : sizeof address);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&address), length) != 0) {
      last_error_ = errno;
      return false;
    }
    if (endpoint_.abstract) {
      const auto peer = peer_facts(fd.get());
      if (!peer || !trust_abstract_peer(*peer)) {
        refused_pid_ = peer ? peer->pid : -1;
        last_error_ = EPERM;
        return false;
      }
    }
    const int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
      last_error_ = errno;
      return false;
    }
    const timeval timeout{0, static_cast<suseconds_t>(kSocketTimeoutMs) * 1000};
    setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    fd_ = std::move(fd);
    reached_ = true;
    return true;
  }

  bool ask(std::uint32_t kind, const ProbeIdentity& probe, mtool_answer& answer) {
    return send_query(kind, probe) && receive_answer(answer);
  }

  bool send_query(std::uint32_t kind, const ProbeIdentity& probe) {
    mtool_query query{};
    query.version = MTOOL_ABI_VERSION;
    query.kind = kind;
    query.family = static_cast<std::uint8_t>(probe.family);
    query.protocol = static_cast<std::uint8_t>(probe.protocol);
    query.flow = probe.flow;
    query.sequence = probe.sequence;
    query.checksum = probe.checksum;
    if (::send(fd_.get(), &query, sizeof query, MSG_NOSIGNAL) !=
        static_cast<ssize_t>(sizeof query)) {
      last_error_ = errno;
      fd_.reset();
      return false;
    }
    return true;
  }

  bool receive_answer(mtool_answer& answer) {
    if (!fd_) return false;
    const ssize_t n = ::recv(fd_.get(), &answer, sizeof answer, 0);
    if (n != static_cast<ssize_t>(sizeof answer) || answer.version != MTOOL_ABI_VERSION) {
      last_error_ = n < 0 ? errno : EPROTO;
      fd_.reset();
      return false;
    }
    return true;
  }

  SocketEndpoint endpoint_;
  std::string path_;  // as said in messages
  UniqueFd fd_;
  MonoNs last_attempt_{};
  int last_error_ = 0;
  bool reached_ = false;
  pid_t refused_pid_ = 0;
};

// The correlator's socket connected and asked HELLO (its answer not read yet): the path first;
// then, unless the path was configured or something listens there, the abstract name in our
// own network namespace (no volume to mount, no variable to set).
struct SocketOpening {
  std::unique_ptr<SocketSource> socket;  // null: none to use
  bool reached = false;                  // something listens: a correlator was to be expected
  bool refused = false;                  // the abstract name is held by another process
  std::string failure;                   // why there is none
};

SocketOpening open_socket(const CorrelatorLocation& where) {
  SocketOpening o;
  auto path = std::make_unique<SocketSource>(SocketEndpoint{where.socket_path, false});
  o.failure = path->send_hello();
  o.reached = path->reached();
  if (o.failure.empty()) {
    o.socket = std::move(path);
    return o;
  }
  if (where.socket_configured || o.reached) return o;
  auto abstract = std::make_unique<SocketSource>(SocketEndpoint{MTOOL_SOCKET_ABSTRACT_NAME, true});
  const std::string failure = abstract->send_hello();
  if (failure.empty()) {
    o.reached = true;
    o.failure.clear();
    o.socket = std::move(abstract);
  } else if (abstract->refused_pid() != 0) {
    o.reached = true;  // someone is there: worth a line
    o.refused = true;
    o.failure = "the correlator's name in this network namespace is held by another process";
    if (abstract->refused_pid() > 0)
      o.failure += " (pid " + std::to_string(abstract->refused_pid()) + ")";
  } else if (abstract->reached()) {
    o.reached = true;
    o.failure = failure;
  }
  // Nothing at either: the path's failure says it (heard only if one was expected).
  return o;
}

}  // namespace

CorrelatorLocation correlator_location_from_env(bool honour_paths) {
  CorrelatorLocation where;
  if (const char* v = std::getenv("MTOOL_CORRELATOR"); v != nullptr && std::strcmp(v, "off") == 0) {
    where.disabled = true;
  }
  if (!honour_paths) return where;
  if (const char* v = std::getenv("MTOOL_CORRELATOR_SOCKET"); v != nullptr && *v != '\0') {
    where.socket_path = v;
    where.socket_configured = true;
  }
  if (const char* v = std::getenv("MTOOL_BPF_PIN_DIR"); v != nullptr && *v != '\0') {
    where.pin_dir = v;
    where.pin_dir_configured = true;
  }
  return where;
}

bool heartbeat_fresh(std::uint64_t heartbeat_ns, MonoNs now) {
  const MonoNs beat = mono_from_ns(static_cast<std::int64_t>(heartbeat_ns));
  return heartbeat_ns != 0 && beat <= now &&
         now - beat <= std::chrono::seconds{MTOOL_HEARTBEAT_FRESH_S};
}

PendingCorrelator begin_correlator_connection(const CorrelatorLocation& where) {
  PendingCorrelator pending;
  CorrelatorConnection& c = pending.ready_;
  if (where.disabled) return pending;
  c.expected = where.pin_dir_configured || where.socket_configured;
  std::string stale_pins;  // why pins that are there were not used

  // 1. Pinned maps, if this process may use bpf() and a correlator still runs behind them.
  const std::uint64_t netns = where.pinned_maps ? net::own_netns_cookie() : 0;
  UniqueFd records(netns != 0 ? bpf_obj_get((where.pin_dir + "/" MTOOL_MAP_RECORDS).c_str()) : -1);
  if (records) {
    UniqueFd devices(bpf_obj_get((where.pin_dir + "/" MTOOL_MAP_DEVICES).c_str()));
    UniqueFd info_map(bpf_obj_get((where.pin_dir + "/" MTOOL_MAP_INFO).c_str()));
    UniqueFd subscribers(bpf_obj_get((where.pin_dir + "/" MTOOL_MAP_SUBSCRIBERS).c_str()));
    mtool_info info{};
    const std::uint32_t zero = 0;
    if (devices && info_map && subscribers &&
        bpf_map_lookup_elem(info_map.get(), &zero, &info) == 0 &&
        info.version == MTOOL_ABI_VERSION) {
      if (!heartbeat_fresh(info.heartbeat_ns, mono_now())) {
        stale_pins = "no correlator runs behind the maps pinned in " + where.pin_dir + "; ";
      } else if (info.host_netns == netns) {
        c.expected = true;
        c.host_namespace = true;
        return pending;
      } else {
        c.expected = true;
        c.source = std::make_unique<PinnedMapSource>(std::move(records), std::move(devices),
                                                     std::move(subscribers), netns);
        c.via = "pinned maps in " + where.pin_dir;
        return pending;
      }
    }
  }

  // 2. The correlator's socket: the question goes out now, the answer is read in finish().
  SocketOpening opening = open_socket(where);
  c.expected = c.expected || opening.reached;
  if (!opening.socket) {
    c.unavailable =
        opening.refused ? opening.failure : "no correlator (" + stale_pins + opening.failure + ")";
    // None found and none expected: the tool runs as its plain drop-in and looks again while it
    // runs (a correlator may start after it, or bind the name in its namespace later).
    if (!c.expected) c.look_again = [where] { return connect_correlator_socket(where); };
    return pending;
  }
  pending.socket_ = std::move(opening.socket);
  return pending;
}

ConnectAttempt connect_correlator_socket(const CorrelatorLocation& where) {
  ConnectAttempt attempt;
  if (where.disabled) return attempt;
  SocketOpening opening = open_socket(where);
  if (!opening.socket) {
    if (opening.refused) attempt.refused = opening.failure;
    return attempt;
  }
  bool host = false;
  if (!opening.socket->finish_hello(host).empty()) return attempt;  // no answer: later, again
  if (host) {
    attempt.host_namespace = true;
    return attempt;
  }
  attempt.via = "socket " + opening.socket->where();
  attempt.source = std::move(opening.socket);
  return attempt;
}

PendingCorrelator::PendingCorrelator() = default;
PendingCorrelator::~PendingCorrelator() = default;
PendingCorrelator::PendingCorrelator(PendingCorrelator&&) noexcept = default;

CorrelatorConnection PendingCorrelator::finish() {
  CorrelatorConnection c = std::move(ready_);
  if (!socket_) return c;
  auto* socket = static_cast<SocketSource*>(socket_.get());
  const std::string where = socket->where();
  bool host = false;
  const std::string failure = socket->finish_hello(host);
  if (!failure.empty()) {
    c.unavailable = "no correlator (" + failure + ")";
  } else if (host) {
    c.host_namespace = true;
  } else {
    c.source = std::move(socket_);
    c.via = "socket " + where;
  }
  socket_.reset();
  return c;
}

CorrelatorConnection connect_correlator(const CorrelatorLocation& where) {
  return begin_correlator_connection(where).finish();
}

}  // namespace mtool::correlate
