// aio::SockAddr: Python's (host, port) address tuple — what get_extra_info("peername"),
// sock_accept() and recvfrom() give, and what sock_connect() and sendto() take.
// (The binary form, aio::SocketAddress, comes with getaddrinfo in dns.hpp.)
#pragma once
#include <sys/socket.h>

#include <any>
#include <cstdint>
#include <iosfwd>
#include <string>

#include "dns.hpp"

namespace aio {

struct SockAddr {
  std::string host;        ///< numeric: "127.0.0.1", "::1" (an IPv6 scope as "%name")
  std::uint16_t port = 0;

  /// The numeric (host, port) of a binary IPv4/IPv6 address.
  static SockAddr from(const SocketAddress& address) { return {address.host(), address.port()}; }
  /// The binary address; std::invalid_argument when host is not a numeric IP address.
  SocketAddress to_socket_address() const { return SocketAddress::parse(host, port); }

  friend bool operator==(const SockAddr&, const SockAddr&) = default;
};

/// Python's repr of the tuple: ('127.0.0.1', 8080).
std::ostream& operator<<(std::ostream& os, const SockAddr& address);

namespace detail {
/// What get_extra_info("peername"/"sockname") holds for a raw address: a SockAddr for IPv4/IPv6,
/// the path (std::string, "" when unnamed) for a Unix socket, empty otherwise.
std::any address_info(const sockaddr* address, socklen_t length);
}  // namespace detail

}  // namespace aio
