// Connecting to the first address that answers: asyncio's create_connection() loop over
// getaddrinfo's results, with its staggered race (happy_eyeballs_delay, RFC 8305) and its
// interleaving of address families. For open_connection and friends.
#pragma once
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "../core/task.hpp"
#include "dns.hpp"

namespace aio::detail {

/// Builds the exception for a failed connection from errno and asyncio's message ("Connect
/// call failed ('127.0.0.1', 1)"), so that callers can raise typed errors
/// (ConnectionRefusedError...). Null: std::system_error(error, std::system_category(), message).
using ConnectErrorFactory = std::exception_ptr (*)(int error, const std::string& message);

struct ConnectOptions {
  /// Start the next address after this many seconds unless the current one finished first;
  /// nullopt: one address after the other, each to its end (asyncio's default).
  std::optional<double> happy_eyeballs_delay{};
  /// Interleave address families, this many of the first family first (asyncio's `interleave`);
  /// nullopt: 1 when happy_eyeballs_delay is set, else keep getaddrinfo's order.
  std::optional<int> interleave{};
  /// asyncio's local_addr, resolved: each socket binds to the first of these of its family
  /// that it can bind to before it connects; nullopt: no bind.
  std::optional<std::vector<AddrInfo>> local_addrs{};
  ConnectErrorFactory make_error = nullptr;
};

/// asyncio's _interleave_addrinfos: group by family (in order of first appearance), take
/// `first_address_family_count - 1` of the first family, then alternate between families.
std::vector<AddrInfo> interleave_addrinfos(std::vector<AddrInfo> addrinfos, int first_address_family_count = 1);

/// Connects a non-blocking socket to one of `addrs` and returns it (the caller owns the fd;
/// O_NONBLOCK and O_CLOEXEC are set). Attempts follow asyncio's staggered race: each
/// starts when the previous one failed or `happy_eyeballs_delay` after it started; the
/// first to connect wins and the others are closed. When all fail: the error, or when
/// they differ, one "Multiple exceptions: ..." error carrying the first one's errno.
/// Cancelling closes every socket the race opened.
Task<int> connect_any(std::vector<AddrInfo> addrs, ConnectOptions options);
Task<int> connect_any(std::vector<AddrInfo> addrs, std::optional<double> happy_eyeballs_delay = std::nullopt);

}  // namespace aio::detail
