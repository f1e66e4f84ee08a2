// aio::getaddrinfo: asyncio's loop.getaddrinfo() without a thread pool. Lookups run on
// c-ares, whose sockets the loop's poller watches and whose timeouts are loop timers, so a
// lookup never blocks the loop; the hosts file is honoured (c-ares' "fb" lookup order).
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>

#include <coroutine>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace aio {

/// A binary IPv4 or IPv6 socket address, as getaddrinfo returns it: what connect() and
/// bind() take, with Python's (host, port) view through host() and port().
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  static SocketAddress from(const sockaddr* address, socklen_t length);
  /// A numeric address ("127.0.0.1", "::1", "fe80::1%lo"); std::invalid_argument otherwise.
  static SocketAddress parse(std::string_view host, std::uint16_t port);

  int family() const noexcept { return storage.ss_family; }
  /// The numeric host ("127.0.0.1", "::1"; an IPv6 scope as "%name").
  std::string host() const;
  std::uint16_t port() const noexcept;
  const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* data() noexcept { return reinterpret_cast<sockaddr*>(&storage); }
  socklen_t size() const noexcept { return length; }

  friend bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept;
};

/// Python's repr of the address tuple: ('127.0.0.1', 80) or ('::1', 80, 0, 0).
std::ostream& operator<<(std::ostream& os, const SocketAddress& address);

/// One entry of getaddrinfo's result (Python's 5-tuple).
struct AddrInfo {
  int family = 0;         ///< AF_INET or AF_INET6
  int type = 0;           ///< SOCK_STREAM, SOCK_DGRAM or SOCK_RAW
  int proto = 0;          ///< IPPROTO_TCP, IPPROTO_UDP or 0
  std::string canonname{};  ///< set on the first entry when flags has AI_CANONNAME
  SocketAddress sockaddr{};
};

/// getaddrinfo's keyword arguments (Python's family, type, proto, flags).
struct GetAddrInfoOptions {
  int family = AF_UNSPEC;
  int type = 0;   ///< 0: one entry per socket type (stream, datagram, raw), as the C library does
  int proto = 0;
  int flags = 0;  ///< AI_PASSIVE, AI_CANONNAME, AI_NUMERICHOST, AI_NUMERICSERV, AI_V4MAPPED, AI_ALL, AI_ADDRCONFIG
};

/// The c-ares status codes (ARES_ENOTFOUND, ARES_ETIMEOUT, ...); message() is c-ares' wording.
const std::error_category& dns_category() noexcept;

/// A failed lookup (Python's socket.gaierror): code() is the c-ares status in dns_category(),
/// what() is "<host>: <c-ares message>", e.g. "nosuch.test: Domain name not found".
class DnsError : public std::system_error {
 public:
  DnsError(int ares_status, const std::string& host);
  const std::string& host() const noexcept { return host_; }

 private:
  std::string host_;
};
using gaierror = DnsError;

/// Where a Resolver sends its queries and how long it waits for them.
struct ResolverOptions {
  /// Name servers, "127.0.0.1", "127.0.0.1:5353", "[::1]:53"; empty: /etc/resolv.conf's.
  std::vector<std::string> servers{};
  /// A hosts file consulted before DNS (when `lookups` has 'f'); empty: /etc/hosts.
  std::string hosts_file{};
  /// Seconds c-ares waits for an answer before it retries; nullopt: resolv.conf's or 5 s.
  std::optional<double> timeout{};
  /// Attempts per server; nullopt: resolv.conf's or c-ares' default.
  std::optional<int> tries{};
  /// 'f' hosts file, 'b' DNS, in that order.
  std::string lookups = "fb";
};

namespace detail {
class DnsLookup;
struct ResolverConfig;

/// What co_await resolver.getaddrinfo(...) suspends on (see docs/writing-awaitables.md).
class [[nodiscard]] AddrInfoAwaiter {
 public:
  AddrInfoAwaiter(std::shared_ptr<ResolverConfig> config, std::string host, std::string service,
                  GetAddrInfoOptions options);
  AddrInfoAwaiter(AddrInfoAwaiter&&) noexcept;
  AddrInfoAwaiter& operator=(AddrInfoAwaiter&&) = delete;
  ~AddrInfoAwaiter();

  bool await_ready();
  void await_suspend(std::coroutine_handle<> h);
  std::vector<AddrInfo> await_resume();

 private:
  std::unique_ptr<DnsLookup> lookup_;
};

}  // namespace detail

/// A c-ares configuration: the system's (default) or one of its own (servers, hosts file,
/// timeouts). Copyable and thread-safe; each lookup runs on its own c-ares channel, so
/// cancelling one cancels exactly its queries.
class Resolver {
 public:
  /// The system's configuration (/etc/resolv.conf, /etc/hosts), reloaded when resolv.conf changes.
  static Resolver system();
  explicit Resolver(const ResolverOptions& options);

  detail::AddrInfoAwaiter getaddrinfo(std::string host, int port, GetAddrInfoOptions options = {}) const;
  /// `service` is a port number or a service name ("http"); "" means no port (0).
  detail::AddrInfoAwaiter getaddrinfo(std::string host, std::string_view service,
                                      GetAddrInfoOptions options = {}) const;

 private:
  explicit Resolver(std::shared_ptr<detail::ResolverConfig> config) : config_(std::move(config)) {}
  std::shared_ptr<detail::ResolverConfig> config_;
};

/// asyncio's loop.getaddrinfo(host, port, family=, type=, proto=, flags=) on the system's
/// resolver. An empty host is Python's None: the loopback addresses, or with AI_PASSIVE the
/// wildcard ones. Throws DnsError (gaierror) when the name cannot be resolved.
detail::AddrInfoAwaiter getaddrinfo(std::string host, int port, GetAddrInfoOptions options = {});
detail::AddrInfoAwaiter getaddrinfo(std::string host, std::string_view service, GetAddrInfoOptions options = {});

}  // namespace aio
