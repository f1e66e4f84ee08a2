#include "aio/net/datagram.hpp"

#include <netdb.h>
#include <netinet/in.h>

#include "aio/net/errors.hpp"

namespace aio {

namespace {
Task<AddrInfo> resolve_datagram(const std::string& host, int port, const DatagramOptions& options, bool passive) {
  if (port < 0 || port > 65535) throw std::invalid_argument("port must be 0-65535");
  GetAddrInfoOptions hints;
  hints.family = options.family;
  hints.type = SOCK_DGRAM;
  hints.proto = IPPROTO_UDP;
  if (passive) hints.flags = AI_PASSIVE;
  std::vector<AddrInfo> addrs = co_await aio::getaddrinfo(host, port, hints);
  if (addrs.empty()) throw OSError(EADDRNOTAVAIL, "getaddrinfo() returned empty list");
  co_return addrs.front();
}

Socket make_socket(const AddrInfo& info, const DatagramOptions& options) {
  Socket sock(info.sockaddr.family(), SOCK_DGRAM, IPPROTO_UDP);
  if (options.reuse_port) sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
  if (options.allow_broadcast) sock.setsockopt(SOL_SOCKET, SO_BROADCAST, 1);
  return sock;
}
}  // namespace

Task<DatagramSocket> DatagramSocket::bind(std::string host, int port, DatagramOptions options) {
  AddrInfo info = co_await resolve_datagram(host, port, options, true);
  Socket sock = make_socket(info, options);
  sock.bind(info.sockaddr);
  co_return DatagramSocket(std::move(sock));
}

Task<DatagramSocket> DatagramSocket::connect(std::string host, int port, DatagramOptions options) {
  AddrInfo info = co_await resolve_datagram(host, port, options, false);
  Socket sock = make_socket(info, options);
  if (::connect(sock.fileno(), info.sockaddr.data(), info.sockaddr.size()) < 0)  // UDP: no waiting
    throw_os_error(errno);
  co_return DatagramSocket(std::move(sock));
}

}  // namespace aio
