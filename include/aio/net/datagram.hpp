// aio::DatagramSocket: UDP the way a coroutine wants it — bind, sendto, recvfrom — instead of
// asyncio's create_datagram_endpoint callbacks. A move-only handle; close() wakes waiters with
// OSError(EBADF). Its operations are cancellable and take timeouts (wait_for).
#pragma once
#include <sys/socket.h>

#include <string>
#include <string_view>

#include "../core/task.hpp"
#include "sockaddr.hpp"
#include "socket.hpp"
#include "socket_ops.hpp"

namespace aio {

struct DatagramOptions {
  int family = AF_UNSPEC;        ///< AF_INET / AF_INET6 to pick one family of the host's addresses
  bool reuse_port = false;       ///< SO_REUSEPORT
  bool allow_broadcast = false;  ///< SO_BROADCAST
};

class DatagramSocket {
 public:
  DatagramSocket() noexcept = default;
  explicit DatagramSocket(Socket socket) noexcept : socket_(std::move(socket)) {}

  /// A socket bound to host:port (port 0: any free port; sockname() says which).
  static Task<DatagramSocket> bind(std::string host, int port, DatagramOptions options = DatagramOptions());
  /// A socket whose datagrams go to host:port (send/recv without an address).
  static Task<DatagramSocket> connect(std::string host, int port, DatagramOptions options = DatagramOptions());

  /// One datagram to `address`; the bytes sent.
  auto sendto(std::string_view data, const SockAddr& address) { return sock_sendto(socket_, data, address); }
  /// One datagram to the connected peer.
  auto send(std::string_view data) { return sock_sendall(socket_, data); }
  /// The next datagram (truncated to bufsize) and who sent it.
  auto recvfrom(std::size_t bufsize = 65536) { return sock_recvfrom(socket_, bufsize); }
  /// The next datagram.
  auto recv(std::size_t bufsize = 65536) { return sock_recv(socket_, bufsize); }

  SockAddr sockname() const { return socket_.getsockname(); }
  SockAddr peername() const { return socket_.getpeername(); }
  void close() { socket_.close(); }
  bool is_closed() const noexcept { return socket_.fileno() < 0; }
  Socket& socket() noexcept { return socket_; }

 private:
  Socket socket_;
};

}  // namespace aio
