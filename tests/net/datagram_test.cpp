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
