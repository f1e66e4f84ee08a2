// asyncio's low-level loop.sock_* calls on aio::Socket, on both backends.
#include <netinet/in.h>

#include <string>

#include "net_test_util.hpp"

NET_TEST(SockOps, ConnectAcceptSendRecv) {
  aio::Socket listener(AF_INET, SOCK_STREAM);
  listener.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  listener.bind(aio::SockAddr{"127.0.0.1", 0});
  listener.listen(16);
  const auto address = listener.getsockname();
  auto& loop = aio::get_running_loop();

  aio::Socket client(AF_INET, SOCK_STREAM);
  auto accepting = aio::ensure_future(loop.sock_accept(listener));
  co_await loop.sock_connect(client, address);
  auto [conn, peer] = co_await accepting;
  EXPECT_EQ(peer, client.getsockname());
  EXPECT_EQ(client.getpeername(), address);

  const std::string big = net_test::pattern(3 << 20);
  auto sending = aio::ensure_future(loop.sock_sendall(client, big));
  std::string got;
  while (got.size() < big.size()) got += co_await loop.sock_recv(conn, 65536);
  co_await sending;
  EXPECT_EQ(got, big);

  char buf[16];
  co_await aio::sock_sendall(conn, "into");
  std::size_t n = co_await loop.sock_recv_into(client, std::span<char>(buf));
  EXPECT_EQ(std::string(buf, n), "into");

  client.shutdown(SHUT_WR);
  EXPECT_EQ(co_await aio::sock_recv(conn, 10), "");  // EOF
}

NET_TEST(SockOps, RecvTimeoutKeepsLaterBytes) {
  aio::Socket listener(AF_INET6, SOCK_STREAM);
  listener.bind(aio::SockAddr{"::1", 0});
  listener.listen();
  aio::Socket client(AF_INET6, SOCK_STREAM);
  co_await aio::sock_connect(client, listener.getsockname());
  auto [conn, peer] = co_await aio::sock_accept(listener);
  EXPECT_EQ(peer.host, "::1");
  EXPECT_THROW(co_await aio::wait_for(aio::sock_recv(conn, 100), 0.25), aio::TimeoutError);
  co_await aio::sock_sendall(client, "late bytes");
  std::string got;
  while (got.size() < 10) got += co_await aio::wait_for(aio::sock_recv(conn, 100), 5.0);
  EXPECT_EQ(got, "late bytes");
}

namespace {

/// Closes `sock` under the operation `waiting` waits for: it must fail with OSError(EBADF).
template <class Waiting>
aio::Task<> expect_woken_by_close(aio::Socket& sock, Waiting waiting) {
  co_await aio::sleep(0);
  sock.close();
  try {
    co_await waiting;
    ADD_FAILURE() << "an operation on a closed socket returned";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EBADF);
    EXPECT_STREQ(e.what(), "[Errno 9] Socket is closed");
  }
}

}  // namespace

NET_TEST(SockOps, CloseWakesWaiters) {
  aio::Socket listener(AF_INET, SOCK_STREAM);
  listener.bind(aio::SockAddr{"127.0.0.1", 0});
  listener.listen();
  co_await expect_woken_by_close(listener, aio::ensure_future(aio::sock_accept(listener)));
  EXPECT_THROW(co_await aio::sock_recv(listener, 1), std::system_error);
  EXPECT_EQ(listener.fileno(), -1);
  // A receive waiting on a connected socket, the same.
  aio::Socket server(AF_INET, SOCK_STREAM);
  const aio::SockAddr loopback{"127.0.0.1", 0};
  server.bind(loopback);
  server.listen();
  aio::Socket client(AF_INET, SOCK_STREAM);
  co_await aio::sock_connect(client, server.getsockname());
  co_await expect_woken_by_close(client, aio::ensure_future(aio::sock_recv(client, 100)));
}

NET_TEST(SockOps, ConnectRefused) {
  aio::Socket probe(AF_INET, SOCK_STREAM);
  probe.bind(aio::SockAddr{"127.0.0.1", 0});
  auto address = probe.getsockname();
  probe.close();
  aio::Socket s(AF_INET, SOCK_STREAM);
  EXPECT_THROW(co_await aio::sock_connect(s, address), aio::ConnectionRefusedError);
}

NET_TEST(SockOps, CancelledAcceptKeepsTheConnection) {
  aio::Socket listener(AF_INET, SOCK_STREAM);
  listener.bind(aio::SockAddr{"127.0.0.1", 0});
  listener.listen();
  EXPECT_THROW(co_await aio::wait_for(aio::sock_accept(listener), 0.1), aio::TimeoutError);
  aio::Socket client(AF_INET, SOCK_STREAM);
  co_await aio::sock_connect(client, listener.getsockname());
  auto [conn, peer] = co_await aio::wait_for(aio::sock_accept(listener), 5.0);
  EXPECT_EQ(peer, client.getsockname());
}

NET_TEST(SockOps, UnixSocketpairPath) {
  std::string path = "/tmp/aio-sockops-" + std::to_string(::getpid()) + ".sock";
  ::unlink(path.c_str());
  aio::Socket listener(AF_UNIX, SOCK_STREAM);
  listener.bind_unix(path);
  listener.listen();
  aio::Socket client(AF_UNIX, SOCK_STREAM);
  co_await aio::sock_connect(client, path);
  auto [conn, peer] = co_await aio::sock_accept(listener);
  co_await aio::sock_sendall(conn, "unix");
  EXPECT_EQ(co_await aio::sock_recv(client, 10), "unix");
  ::unlink(path.c_str());
}
