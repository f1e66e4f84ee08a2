// UDP: DatagramSocket::bind/connect, sendto/recvfrom, on both backends.
#include <string>

#include "net_test_util.hpp"

NET_TEST(Datagram, SendtoRecvfromIPv4) {
  auto a = co_await aio::DatagramSocket::bind("127.0.0.1", 0);
  auto b = co_await aio::DatagramSocket::bind("127.0.0.1", 0);
  EXPECT_EQ(co_await b.sendto("ping", a.sockname()), 4u);
  auto [data, from] = co_await a.recvfrom();
  EXPECT_EQ(data, "ping");
  EXPECT_EQ(from, b.sockname());
  co_await a.sendto("pong", from);
  auto [reply, from2] = co_await b.recvfrom();
  EXPECT_EQ(reply, "pong");
  EXPECT_EQ(from2, a.sockname());
}

NET_TEST(Datagram, IPv6AndConnected) {
  auto server = co_await aio::DatagramSocket::bind("::1", 0);
  auto client = co_await aio::DatagramSocket::connect("::1", server.sockname().port);
  co_await client.send("hello six");
  auto [data, from] = co_await server.recvfrom();
  EXPECT_EQ(data, "hello six");
  EXPECT_EQ(from.host, "::1");
  co_await server.sendto(std::string(9000, 'q'), from);
  EXPECT_EQ(co_await client.recv(), std::string(9000, 'q'));
  EXPECT_EQ(client.peername(), server.sockname());
}

NET_TEST(Datagram, TimeoutAndClose) {
  auto sock = co_await aio::DatagramSocket::bind("127.0.0.1", 0);
  EXPECT_THROW(co_await aio::wait_for(sock.recvfrom(), 0.5), aio::TimeoutError);
  auto waiting = aio::ensure_future(sock.recvfrom());
  co_await aio::sleep(0);
  sock.close();
  EXPECT_THROW(co_await waiting, std::system_error);
  EXPECT_TRUE(sock.is_closed());
}

NET_TEST(Datagram, ManyDatagramsInOrder) {
  auto a = co_await aio::DatagramSocket::bind("127.0.0.1", 0);
  auto b = co_await aio::DatagramSocket::connect("127.0.0.1", a.sockname().port);
  for (int i = 0; i < 200; ++i) co_await b.send(std::to_string(i));
  for (int i = 0; i < 200; ++i) {
    auto [d, from] = co_await a.recvfrom();
    EXPECT_EQ(d, std::to_string(i));
  }
}

NET_TEST(Datagram, CancelledRecvfromLosesNothing) {
  // A datagram that lands while a recvfrom is being cancelled is the next recvfrom's. On
  // io_uring the receive is already in the kernel: it completes with the datagram although
  // its cancellation was asked for.
  auto a = co_await aio::DatagramSocket::bind("127.0.0.1", 0);
  auto b = co_await aio::DatagramSocket::bind("127.0.0.1", 0);
  const aio::SocketAddress to = a.sockname().to_socket_address();
  auto send_now = [&](const std::string& data) {  // a plain syscall: in a's queue on return
    EXPECT_EQ(::sendto(b.socket().fileno(), data.data(), data.size(), 0, to.data(), to.size()),
              static_cast<ssize_t>(data.size()));
  };
  for (int round = 0; round < 3; ++round) {
    const std::string first = "first " + std::to_string(round);
    const std::string second = "second " + std::to_string(round);
    auto waiting = aio::ensure_future(a.recvfrom());
    co_await aio::sleep(0.001);  // the receive waits in the poller (submitted, on io_uring)
    send_now(first);
    if (round == 1) {
      // The receive completes (its task is woken) before the cancel comes: poll the poller
      // here, inside this step, so the woken task cannot run first.
      for (int i = 0; i < 100 && aio::get_running_loop().poller().poll(10'000'000) == 0; ++i) {
      }
    }
    waiting.cancel();
    EXPECT_THROW(co_await waiting, aio::CancelledError);
    send_now(second);
    auto [got_first, from] = co_await aio::wait_for(a.recvfrom(), 5.0);
    EXPECT_EQ(got_first, first);
    EXPECT_EQ(from, b.sockname());
    auto [got_second, from2] = co_await aio::wait_for(a.recvfrom(), 5.0);
    EXPECT_EQ(got_second, second);
  }
  // The same through a timeout, and for recv() on a connected socket.
  auto c = co_await aio::DatagramSocket::connect("127.0.0.1", b.sockname().port);
  auto timed = aio::ensure_future(aio::wait_for(b.recv(), 0.5));
  co_await aio::sleep(0.001);
  EXPECT_EQ(::send(c.socket().fileno(), "late", 4, 0), 4);
  timed.cancel();
  EXPECT_THROW(co_await timed, aio::CancelledError);
  EXPECT_EQ(co_await aio::wait_for(b.recv(), 5.0), "late");
}
