// aio::getaddrinfo on c-ares. Each lookup gets its own channel, built from a configuration
// read once (ares_save_options), so that cancelling a lookup destroys exactly its queries.
// The channel's sockets are watched by the loop's poller (ARES_OPT_SOCK_STATE_CB), its
// timeouts are a loop timer (ares_timeout), and ares_process_fd runs when either fires.
#include "aio/net/dns.hpp"

#include <ares.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <fstream>
#include <mutex>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "aio/core/event_loop.hpp"
#include "aio/core/poller.hpp"

namespace aio {

// ---------------------------------------------------------------------------------------------
// SocketAddress

SocketAddress SocketAddress::from(const sockaddr* address, socklen_t length) {
  SocketAddress a;
  if (!address || length == 0 || length > static_cast<socklen_t>(sizeof a.storage))
    throw std::invalid_argument("SocketAddress::from(): bad address length");
  std::memcpy(&a.storage, address, length);
  a.length = length;
  return a;
}

SocketAddress SocketAddress::parse(std::string_view host, std::uint16_t port) {
  SocketAddress a;
  std::string text(host);
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
  if (::inet_pton(AF_INET, text.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    a.length = sizeof(sockaddr_in);
    return a;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  std::string scope;
  if (auto pct = text.find('%'); pct != std::string::npos) {
    scope = text.substr(pct + 1);
    text.resize(pct);
  }
  if (::inet_pton(AF_INET6, text.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    if (!scope.empty()) {
      unsigned index = 0;
      auto [end, ec] = std::from_chars(scope.data(), scope.data() + scope.size(), index);
      if (ec != std::errc() || end != scope.data() + scope.size()) index = ::if_nametoindex(scope.c_str());
      if (index == 0) throw std::invalid_argument("unknown IPv6 scope: " + scope);
      v6->sin6_scope_id = index;
    }
    a.length = sizeof(sockaddr_in6);
    return a;
  }
  throw std::invalid_argument("not a numeric IP address: " + std::string(host));
}

std::string SocketAddress::host() const {
  char text[INET6_ADDRSTRLEN + IF_NAMESIZE + 2] = {};
  if (family() == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, text, sizeof text);
    return text;
  }
  if (family() == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&storage);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    std::string out = text;
    if (v6->sin6_scope_id != 0) {
      char name[IF_NAMESIZE] = {};
      out += '%';
      out += ::if_indextoname(v6->sin6_scope_id, name) ? std::string(name) : std::to_string(v6->sin6_scope_id);
    }
    return out;
  }
  return {};
}

std::uint16_t SocketAddress::port() const noexcept {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  return 0;
}

bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept {
  return a.length == b.length && std::memcmp(&a.storage, &b.storage, a.length) == 0;
}

std::ostream& operator<<(std::ostream& os, const SocketAddress& address) {
  os << "('" << address.host() << "', " << address.port();
  if (address.family() == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&address.storage);
    os << ", " << ntohl(v6->sin6_flowinfo) << ", " << v6->sin6_scope_id;
  }
  return os << ')';
}

// ---------------------------------------------------------------------------------------------
// Errors

namespace {

class DnsCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "c-ares"; }
  std::string message(int status) const override {
    if (status == ARES_ESERVICE) return "Servname not supported for ai_socktype";
    return ares_strerror(status);
  }
};

}  // namespace

const std::error_category& dns_category() noexcept {
  static const DnsCategory category;
  return category;
}

DnsError::DnsError(int ares_status, const std::string& host)
    : std::system_error(ares_status, dns_category(), host), host_(host) {}

// ---------------------------------------------------------------------------------------------
// Configuration

namespace detail {

struct ResolverConfig {
  ares_options saved{};
  int optmask = 0;
  ares_addr_port_node* servers = nullptr;  // with their ports, which ares_save_options drops
  std::string hosts_file;                  // ours to read; empty: c-ares reads /etc/hosts
  bool dns = true;                         // 'b' in lookups

  ResolverConfig() = default;
  ResolverConfig(const ResolverConfig&) = delete;
  ResolverConfig& operator=(const ResolverConfig&) = delete;
  ~ResolverConfig() {
    if (optmask) ares_destroy_options(&saved);
    if (servers) ares_free_data(servers);
  }
};

void dns_sock_state(void* data, ares_socket_t fd, int readable, int writable);

namespace {

void init_library() {
  static const int status = ares_library_init(ARES_LIB_INIT_ALL);
  if (status != ARES_SUCCESS) throw DnsError(status, "ares_library_init");
}

/// Reads resolv.conf (or takes the options), once; lookups copy the result.
std::shared_ptr<ResolverConfig> make_config(const ResolverOptions& options) {
  init_library();
  auto config = std::make_shared<ResolverConfig>();
  std::string lookups;
  for (char c : options.lookups) {
    if (c == 'b') {
      if (lookups.find('b') == std::string::npos) lookups += 'b';
    } else if (c == 'f') {
      if (options.hosts_file.empty() && lookups.find('f') == std::string::npos) lookups += 'f';
    } else {
      throw std::invalid_argument("ResolverOptions::lookups: only 'f' and 'b' are allowed");
    }
  }
  if (!options.hosts_file.empty() && options.lookups.find('f') != std::string::npos)
    config->hosts_file = options.hosts_file;
  config->dns = lookups.find('b') != std::string::npos;
  if (lookups.empty()) lookups.push_back('b');  // c-ares wants one; never used when DNS is off

  ares_options o{};
  int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_LOOKUPS;
  o.sock_state_cb = &dns_sock_state;
  o.sock_state_cb_data = nullptr;
  o.lookups = lookups.data();
  if (options.timeout) {
    if (!(*options.timeout > 0)) throw std::invalid_argument("ResolverOptions::timeout must be positive");
    mask |= ARES_OPT_TIMEOUTMS;
    o.timeout = std::max(1, static_cast<int>(*options.timeout * 1000.0));
  }
  if (options.tries) {
    if (*options.tries < 1) throw std::invalid_argument("ResolverOptions::tries must be at least 1");
    mask |= ARES_OPT_TRIES;
    o.tries = *options.tries;
  }
  ares_channel channel = nullptr;
  if (int status = ares_init_options(&channel, &o, mask); status != ARES_SUCCESS)
    throw DnsError(status, "ares_init_options");
  struct Destroy {
    ares_channel c;
    ~Destroy() { ares_destroy(c); }
  } destroy{channel};
  if (!options.servers.empty()) {
    std::string csv;
    for (const auto& s : options.servers) {
      if (!csv.empty()) csv += ',';
      csv += s;
    }
    if (ares_set_servers_ports_csv(channel, csv.c_str()) != ARES_SUCCESS)
      throw std::invalid_argument("ResolverOptions::servers: cannot parse \"" + csv + "\"");
  }
  if (int status = ares_save_options(channel, &config->saved, &config->optmask); status != ARES_SUCCESS)
    throw DnsError(status, "ares_save_options");
  if (int status = ares_get_servers_ports(channel, &config->servers); status != ARES_SUCCESS)
    throw DnsError(status, "ares_get_servers_ports");
  return config;
}

/// The system's configuration, rebuilt when /etc/resolv.conf changes (as glibc does).
std::shared_ptr<ResolverConfig> system_config() {
  static std::mutex mutex;
  static std::shared_ptr<ResolverConfig> cached;
  static timespec cached_mtime{};
  struct stat st {};
  const bool have = ::stat("/etc/resolv.conf", &st) == 0;
  std::lock_guard lock(mutex);
  if (!cached || (have && (st.st_mtim.tv_sec != cached_mtime.tv_sec || st.st_mtim.tv_nsec != cached_mtime.tv_nsec))) {
    cached = make_config({});
    if (have) cached_mtime = st.st_mtim;
  }
  return cached;
}

int ares_flags(int ai_flags) {
  int flags = 0;
  if (ai_flags & AI_CANONNAME) flags |= ARES_AI_CANONNAME;
  if (ai_flags & AI_NUMERICHOST) flags |= ARES_AI_NUMERICHOST;
  if (ai_flags & AI_PASSIVE) flags |= ARES_AI_PASSIVE;
  if (ai_flags & AI_NUMERICSERV) flags |= ARES_AI_NUMERICSERV;
  if (ai_flags & AI_V4MAPPED) flags |= ARES_AI_V4MAPPED;
  if (ai_flags & AI_ALL) flags |= ARES_AI_ALL;
  if (ai_flags & AI_ADDRCONFIG) flags |= ARES_AI_ADDRCONFIG;
  return flags;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

/// The port of `service`: a number, or a name looked up in /etc/services.
std::uint16_t resolve_port(std::string_view service, const GetAddrInfoOptions& options) {
  if (service.empty()) return 0;
  if (all_digits(service)) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(service.data(), service.data() + service.size(), value);
    if (ec != std::errc() || end != service.data() + service.size() || value > 65535)
      throw DnsError(ARES_ESERVICE, std::string(service));
    return static_cast<std::uint16_t>(value);
  }
  if (options.flags & AI_NUMERICSERV) throw DnsError(ARES_ESERVICE, std::string(service));
  const char* proto = options.type == SOCK_DGRAM ? "udp" : options.type == SOCK_STREAM ? "tcp" : nullptr;
  std::string name(service);
  servent entry{}, *found = nullptr;
  char buffer[4096];
  if (::getservbyname_r(name.c_str(), proto, &entry, buffer, sizeof buffer, &found) != 0 || !found)
    throw DnsError(ARES_ESERVICE, name);
  return ntohs(static_cast<std::uint16_t>(found->s_port));
}

void set_port(SocketAddress& a, std::uint16_t port) {
  if (a.family() == AF_INET) reinterpret_cast<sockaddr_in*>(&a.storage)->sin_port = htons(port);
  else if (a.family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(&a.storage)->sin6_port = htons(port);
}

bool family_wanted(int family, const GetAddrInfoOptions& options) {
  return options.family == AF_UNSPEC || options.family == family;
}

/// One address becomes one entry per socket type, as the C library's getaddrinfo does.
void append(std::vector<AddrInfo>& out, const SocketAddress& address, const GetAddrInfoOptions& options,
            const std::string& canonname) {
  struct Kind {
    int type, proto;
  };
  static constexpr Kind kinds[] = {{SOCK_STREAM, IPPROTO_TCP}, {SOCK_DGRAM, IPPROTO_UDP}, {SOCK_RAW, 0}};
  auto add = [&](int type, int proto) {
    AddrInfo info;
    info.family = address.family();
    info.type = type;
    info.proto = proto;
    if (out.empty() && (options.flags & AI_CANONNAME)) info.canonname = canonname;
    info.sockaddr = address;
    out.push_back(std::move(info));
  };
  if (options.type == 0) {
    for (const Kind& k : kinds)
      if (options.proto == 0 || options.proto == k.proto) add(k.type, k.proto);
  } else {
    int proto = options.proto;
    if (proto == 0 && options.type == SOCK_STREAM) proto = IPPROTO_TCP;
    if (proto == 0 && options.type == SOCK_DGRAM) proto = IPPROTO_UDP;
    add(options.type, proto);
  }
}

/// Python's getaddrinfo(None, port): loopback, or the wildcard addresses with AI_PASSIVE.
std::vector<AddrInfo> no_host(std::uint16_t port, const GetAddrInfoOptions& options) {
  std::vector<AddrInfo> out;
  const bool passive = options.flags & AI_PASSIVE;
  const char* order[2][2] = {{"::1", "127.0.0.1"}, {"0.0.0.0", "::"}};
  for (const char* host : order[passive ? 1 : 0]) {
    SocketAddress a = SocketAddress::parse(host, port);
    if (family_wanted(a.family(), options)) append(out, a, options, "");
  }
  return out;
}

/// A numeric host needs no resolver (the hot path of open_connection("127.0.0.1", ...)).
/// False when `host` is not numeric; throws when it is but does not fit the options.
bool numeric_host(const std::string& host, std::uint16_t port, const GetAddrInfoOptions& options,
                  std::vector<AddrInfo>& out) {
  SocketAddress a;
  try {
    a = SocketAddress::parse(host, port);
  } catch (const std::invalid_argument&) {
    if (auto pct = host.find('%'); pct != std::string::npos) {  // an IPv6 address, an unknown scope
      in6_addr ignored;
      if (::inet_pton(AF_INET6, host.substr(0, pct).c_str(), &ignored) == 1) throw DnsError(ARES_ENOTFOUND, host);
    }
    if (options.flags & AI_NUMERICHOST) throw DnsError(ARES_ENONAME, host);
    return false;
  }
  if (a.family() == AF_INET && options.family == AF_INET6 && (options.flags & AI_V4MAPPED)) {
    sockaddr_in6 mapped{};
    mapped.sin6_family = AF_INET6;
    mapped.sin6_port = htons(port);
    mapped.sin6_addr.s6_addr[10] = mapped.sin6_addr.s6_addr[11] = 0xff;
    std::memcpy(&mapped.sin6_addr.s6_addr[12], &reinterpret_cast<const sockaddr_in*>(&a.storage)->sin_addr, 4);
    a = SocketAddress::from(reinterpret_cast<const sockaddr*>(&mapped), sizeof mapped);
  }
  // glibc's EAI_ADDRFAMILY ("Address family for hostname not supported").
  if (!family_wanted(a.family(), options)) throw DnsError(ARES_EBADFAMILY, host);
  append(out, a, options, host);
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

/// A hosts(5) file lookup for ResolverOptions::hosts_file.
bool hosts_lookup(const std::string& path, const std::string& host, std::uint16_t port,
                  const GetAddrInfoOptions& options, std::vector<AddrInfo>& out) {
  std::ifstream file(path);
  if (!file) return false;
  std::string name = host;
  if (!name.empty() && name.back() == '.') name.pop_back();
  std::string line;
  while (std::getline(file, line)) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream words(line);
    std::string address, canonical, alias;
    if (!(words >> address >> canonical)) continue;
    bool match = iequals(canonical, name);
    while (!match && words >> alias) match = iequals(alias, name);
    if (!match) continue;
    SocketAddress a;
    try {
      a = SocketAddress::parse(address, port);
    } catch (const std::invalid_argument&) {
      continue;
    }
    if (family_wanted(a.family(), options)) append(out, a, options, canonical);
  }
  return !out.empty();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// One lookup: its channel, its sockets' watchers, its timer, the task waiting on it.

class DnsLookup final : TimerEntry, CancelHook {
 public:
  DnsLookup(std::shared_ptr<ResolverConfig> config, std::string host, std::string service,
            GetAddrInfoOptions options)
      : TimerEntry(&DnsLookup::on_timer),
        CancelHook(&DnsLookup::on_cancel),
        config_(std::move(config)),
        host_(std::move(host)),
        service_(std::move(service)),
        options_(options) {}
  DnsLookup(const DnsLookup&) = delete;
  DnsLookup& operator=(const DnsLookup&) = delete;

  ~DnsLookup() {
    done_ = true;  // c-ares' ARES_EDESTRUCTION callback must not wake anyone
    close_channel();
    for (auto& w : watches_) {
      if (!w->events) continue;
      try {
        loop_->poller().watch(w->fd, 0, w.get());
      } catch (...) {
      }
    }
  }

  /// await_ready: starts the lookup; true when it finished at once (numeric host, hosts file).
  bool start() {
    task_ = &current_task_state();
    loop_ = &get_running_loop();
    if (options_.family != AF_UNSPEC && options_.family != AF_INET && options_.family != AF_INET6)
      throw DnsError(ARES_EBADFAMILY, host_);
    const std::uint16_t port = resolve_port(service_, options_);
    if (host_.empty()) {
      results_ = no_host(port, options_);
      return done_ = true;
    }
    if (numeric_host(host_, port, options_, results_)) return done_ = true;
    if (!config_->hosts_file.empty() && !(options_.flags & AI_NUMERICHOST) &&
        hosts_lookup(config_->hosts_file, host_, port, options_, results_))
      return done_ = true;
    if (!config_->dns) throw DnsError(ARES_ENOTFOUND, host_);
    port_ = port;
    ares_options o = config_->saved;
    o.sock_state_cb = &dns_sock_state;
    o.sock_state_cb_data = this;
    if (int status = ares_init_options(&channel_, &o, config_->optmask); status != ARES_SUCCESS) {
      channel_ = nullptr;
      throw DnsError(status, host_);
    }
    if (config_->servers) {
      if (int status = ares_set_servers_ports(channel_, config_->servers); status != ARES_SUCCESS)
        throw DnsError(status, host_);
    }
    ares_addrinfo_hints hints{};
    hints.ai_flags = ares_flags(options_.flags);
    hints.ai_family = options_.family;
    hints.ai_socktype = options_.type;
    hints.ai_protocol = options_.proto;
    ares_getaddrinfo(channel_, host_.c_str(), nullptr, &hints, &DnsLookup::on_result, this);
    after_ares();
    return done_;
  }

  void suspend(std::coroutine_handle<> h) {
    suspended_ = true;
    task_->suspend(h, this);
  }

  std::vector<AddrInfo> finish() {
    close_channel();
    task_->throw_if_cancel_pending();
    if (error_) std::rethrow_exception(error_);
    return std::move(results_);
  }

  /// ARES_OPT_SOCK_STATE_CB: c-ares opened, changed or is about to close a socket.
  void sock_state(int fd, bool readable, bool writable) noexcept {
    try {
      Watch* w = nullptr;
      for (auto& candidate : watches_)
        if (candidate->fd == fd) w = candidate.get();
      if (!w) w = watches_.emplace_back(std::make_unique<Watch>(this, fd)).get();
      const std::uint32_t events = (readable ? io_events::readable : 0u) | (writable ? io_events::writable : 0u);
      if (events == 0 && w->events == 0) return;
      loop_->poller().watch(fd, events, w);
      w->events = events;
    } catch (...) {
      if (!failure_) failure_ = std::current_exception();
    }
  }

 private:
  /// Watchers live as long as the lookup (never freed while a poll may still report them);
  /// a closed socket's watcher is only marked idle.
  struct Watch : IoWatcher {
    Watch(DnsLookup* o, int f) noexcept : IoWatcher(&DnsLookup::on_ready), owner(o), fd(f) {}
    DnsLookup* owner;
    int fd;
    std::uint32_t events = 0;
  };

  static void on_ready(IoWatcher* watcher, std::uint32_t events) {
    auto* w = static_cast<Watch*>(watcher);
    DnsLookup* self = w->owner;
    if (!w->events || !self->channel_) return;  // stale report for a socket c-ares closed
    const std::uint32_t trouble = io_events::error | io_events::hangup;
    const bool read = (w->events & io_events::readable) && (events & (io_events::readable | trouble));
    const bool write = (w->events & io_events::writable) && (events & (io_events::writable | trouble));
    ares_process_fd(self->channel_, read ? w->fd : ARES_SOCKET_BAD, write ? w->fd : ARES_SOCKET_BAD);
    self->after_ares();
  }

  static void on_timer(TimerEntry* e) {
    auto* self = static_cast<DnsLookup*>(e);
    if (!self->channel_) return;
    ares_process_fd(self->channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    self->after_ares();
  }

  static bool on_cancel(CancelHook* h, std::string_view) {
    auto* self = static_cast<DnsLookup*>(h);
    if (self->done_) return false;  // already woken: the resume delivers CancelledError
    self->done_ = true;
    self->close_channel();  // ends the queries, closes and unwatches the sockets
    self->task_->wake();
    return false;
  }

  static void on_result(void* arg, int status, int, ares_addrinfo* result) {
    auto* self = static_cast<DnsLookup*>(arg);
    struct Free {
      ares_addrinfo* r;
      ~Free() {
        if (r) ares_freeaddrinfo(r);
      }
    } free_result{result};
    if (self->done_) return;  // cancelled or destroyed: the channel is going away
    try {
      if (status != ARES_SUCCESS) throw DnsError(status, self->host_);
      std::string canonname = result && result->name ? result->name : self->host_;
      if (result)
        for (auto* c = result->cnames; c; c = c->next)
          if (c->name) canonname = c->name;
      for (auto* n = result ? result->nodes : nullptr; n; n = n->ai_next) {
        if (!n->ai_addr || (n->ai_family != AF_INET && n->ai_family != AF_INET6)) continue;
        if (!family_wanted(n->ai_family, self->options_)) continue;
        SocketAddress a = SocketAddress::from(n->ai_addr, n->ai_addrlen);
        set_port(a, self->port_);
        append(self->results_, a, self->options_, canonname);
      }
      if (self->results_.empty()) throw DnsError(ARES_ENODATA, self->host_);
    } catch (...) {
      self->results_.clear();
      self->error_ = std::current_exception();
    }
    self->complete();
  }

  /// After every call into c-ares: finish on a poller failure, else follow c-ares' next timeout.
  void after_ares() {
    if (!done_ && failure_) {
      error_ = failure_;
      complete();
    }
    if (done_) {
      close_channel();
      return;
    }
    timeval buffer{};
    timeval* next = ares_timeout(channel_, nullptr, &buffer);
    loop_->disarm_timer(this);
    if (next)
      loop_->arm_timer(this, loop_->now_ns() + static_cast<std::int64_t>(next->tv_sec) * 1000000000 +
                                 static_cast<std::int64_t>(next->tv_usec) * 1000);
  }

  void complete() noexcept {
    done_ = true;
    if (loop_) loop_->disarm_timer(this);
    if (suspended_ && !woken_) {
      woken_ = true;
      task_->wake();
    }
  }

  /// Never from inside a c-ares callback (c-ares forbids it); our callbacks only record.
  void close_channel() noexcept {
    if (loop_) loop_->disarm_timer(this);
    if (!channel_) return;
    ares_channel channel = channel_;
    channel_ = nullptr;
    ares_destroy(channel);  // reports each socket closed through sock_state first
  }

  std::shared_ptr<ResolverConfig> config_;
  std::string host_;
  std::string service_;
  GetAddrInfoOptions options_;
  std::uint16_t port_ = 0;
  EventLoop* loop_ = nullptr;
  TaskState* task_ = nullptr;
  ares_channel channel_ = nullptr;
  std::vector<std::unique_ptr<Watch>> watches_;
  std::vector<AddrInfo> results_;
  std::exception_ptr error_;
  std::exception_ptr failure_;
  bool done_ = false;
  bool suspended_ = false;
  bool woken_ = false;
};

void dns_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
  if (data) static_cast<DnsLookup*>(data)->sock_state(fd, readable != 0, writable != 0);
}

// ---------------------------------------------------------------------------------------------
// The awaiter

AddrInfoAwaiter::AddrInfoAwaiter(std::shared_ptr<ResolverConfig> config, std::string host, std::string service,
                                 GetAddrInfoOptions options)
    : lookup_(std::make_unique<DnsLookup>(std::move(config), std::move(host), std::move(service), options)) {}
AddrInfoAwaiter::AddrInfoAwaiter(AddrInfoAwaiter&&) noexcept = default;
AddrInfoAwaiter::~AddrInfoAwaiter() = default;

bool AddrInfoAwaiter::await_ready() { return lookup_->start(); }
void AddrInfoAwaiter::await_suspend(std::coroutine_handle<> h) { lookup_->suspend(h); }
std::vector<AddrInfo> AddrInfoAwaiter::await_resume() { return lookup_->finish(); }

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Resolver and the free functions

Resolver Resolver::system() { return Resolver(detail::system_config()); }

Resolver::Resolver(const ResolverOptions& options) : config_(detail::make_config(options)) {}

detail::AddrInfoAwaiter Resolver::getaddrinfo(std::string host, int port, GetAddrInfoOptions options) const {
  if (port < 0 || port > 65535) throw std::invalid_argument("getaddrinfo(): port must be 0-65535");
  return detail::AddrInfoAwaiter(config_, std::move(host), port ? std::to_string(port) : std::string(), options);
}

detail::AddrInfoAwaiter Resolver::getaddrinfo(std::string host, std::string_view service,
                                              GetAddrInfoOptions options) const {
  return detail::AddrInfoAwaiter(config_, std::move(host), std::string(service), options);
}

detail::AddrInfoAwaiter getaddrinfo(std::string host, int port, GetAddrInfoOptions options) {
  return Resolver::system().getaddrinfo(std::move(host), port, options);
}

detail::AddrInfoAwaiter getaddrinfo(std::string host, std::string_view service, GetAddrInfoOptions options) {
  return Resolver::system().getaddrinfo(std::move(host), service, options);
}

}  // namespace aio
