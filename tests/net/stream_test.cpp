// Streams on real sockets (127.0.0.1, ::1, Unix), on both backends: reading, writing,
// flow control, errors, cancellation.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <any>
#include <cstdlib>
#include <string>

#include "net_test_util.hpp"

using namespace std::chrono_literals;

namespace {

aio::Task<aio::Server> echo_server(std::string host = "127.0.0.1") {
  co_return co_await aio::start_server(net_test::echo_handler, host, 0);
}

/// Streams whose far end is a raw socket the test drives (or leaves unread).
struct RawPeerConnection {
  aio::Socket listener;
  aio::StreamReader reader;
  aio::StreamWriter writer;
  aio::Socket peer;
};

aio::Task<RawPeerConnection> connect_to_raw_peer() {
  aio::Socket listener(AF_INET, SOCK_STREAM);
  const aio::SockAddr loopback{"127.0.0.1", 0};
  listener.bind(loopback);
  listener.listen();
  auto [r, w] = co_await aio::open_connection("127.0.0.1", listener.getsockname().port);
  auto accepted = co_await aio::sock_accept(listener);
  co_return RawPeerConnection{std::move(listener), std::move(r), std::move(w), std::move(accepted.first)};
}

}  // namespace

NET_TEST(Streams, EchoOverIPv4) {
  auto server = co_await echo_server();
  auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
  writer.write("hello\n");
  co_await writer.drain();
  EXPECT_EQ(co_await reader.readline(), "hello\n");
  std::string big = net_test::pattern(1 << 20);
  writer.write(big);
  co_await writer.drain();
  EXPECT_EQ(co_await reader.readexactly(static_cast<std::ptrdiff_t>(big.size())), big);
  writer.close();
  co_await writer.wait_closed();
  EXPECT_TRUE(writer.is_closing());
  server.close();
  co_await server.wait_closed();
}

NET_TEST(Streams, EchoOverIPv6) {
  auto server = co_await echo_server("::1");
  auto [reader, writer] = co_await aio::open_connection("::1", server.port());
  writer.write("over six\n");
  EXPECT_EQ(co_await reader.readline(), "over six\n");
  auto peer = std::any_cast<aio::SockAddr>(writer.get_extra_info("peername"));
  EXPECT_EQ(peer.host, "::1");
  EXPECT_EQ(peer.port, server.port());
  writer.close();
}

NET_TEST(Streams, ExtraInfo) {
  auto server = co_await echo_server();
  auto [reader, writer] = co_await aio::open_connection("127.0.0.1", server.port());
  auto peer = std::any_cast<aio::SockAddr>(writer.get_extra_info("peername"));
  auto mine = std::any_cast<aio::SockAddr>(writer.get_extra_info("sockname"));
  EXPECT_EQ(peer, (aio::SockAddr{"127.0.0.1", static_cast<std::uint16_t>(server.port())}));
  EXPECT_EQ(mine.host, "127.0.0.1");
  EXPECT_NE(mine.port, 0);
  EXPECT_TRUE(std::any_cast<int>(writer.get_extra_info("socket")) >= 0);
  EXPECT_FALSE(writer.get_extra_info("sslcontext").has_value());
  EXPECT_EQ(server.sockets().size(), 1u);
  writer.close();
}

NET_TEST(Streams, ReadFamily) {
  // The server writes a script of bytes, then EOF.
  auto handler = [](aio::StreamReader, aio::StreamWriter w) -> aio::Task<> {
    w.write("line one\nline two\nEXACT12bytesHEAD\r\nrest-of-it");
    co_await w.drain();
    w.close();
  };
  auto server = co_await aio::start_server(handler, "127.0.0.1", 0);
  auto [r, w] = co_await aio::open_connection("127.0.0.1", server.port());
  EXPECT_EQ(co_await r.readline(), "line one\n");
  EXPECT_EQ(co_await r.readuntil("\n"), "line two\n");
  EXPECT_EQ(co_await r.readexactly(12), "EXACT12bytes");
  EXPECT_EQ(co_await r.readuntil("\r\n"), "HEAD\r\n");
  EXPECT_EQ(co_await r.read(4), "rest");
  EXPECT_EQ(co_await r.read(), "-of-it");  // read(-1): until EOF
  EXPECT_TRUE(r.at_eof());
  EXPECT_EQ(co_await r.read(), "");
  EXPECT_EQ(co_await r.readline(), "");
  EXPECT_EQ(co_await r.read(0), "");
  w.close();
}

NET_TEST(Streams, PeerClosesMidReadexactly) {
  auto handler = [](aio::StreamReader, aio::StreamWriter w) -> aio::Task<> {
    w.write(std::string(18, 'x'));
    co_await w.drain();
    w.close();
  };
  auto server = co_await aio::start_server(handler, "127.0.0.1", 0);
  auto [r, w] = co_await aio::open_connection("127.0.0.1", server.port());
  bool raised = false;
  try {
    co_await r.readexactly(36);
  } catch (const aio::IncompleteReadError& e) {
    raised = true;
    EXPECT_STREQ(e.what(), "18 bytes read on a total of 36 expected bytes");
    EXPECT_EQ(e.partial, std::string(18, 'x'));
    EXPECT_EQ(e.expected, std::optional<std::size_t>(36));
  }
  EXPECT_TRUE(raised);
  // readuntil at EOF: expected is undefined.
  try {
    co_await r.readuntil("!");
    ADD_FAILURE() << "readuntil at EOF did not raise";
  } catch (const aio::IncompleteReadError& e) {
    EXPECT_STREQ(e.what(), "0 bytes read on a total of undefined expected bytes");
    EXPECT_FALSE(e.expected.has_value());
  }
  w.close();
}

NET_TEST(Streams, LimitOverrun) {
  auto handler = [](aio::StreamReader, aio::StreamWriter w) -> aio::Task<> {
    w.write(std::string(100, 'a') + "\n" + "ok\n");
    co_await w.drain();
    co_await aio::sleep(1);
    w.close();
  };
  auto server = co_await aio::start_server(handler, "127.0.0.1", 0);
  aio::OpenConnectionOptions options;
  options.limit = 16;
  auto [r, w] = co_await aio::open_connection("127.0.0.1", server.port(), options);
  try {
    co_await r.readuntil("\n");
    ADD_FAILURE() << "no LimitOverrunError";
  } catch (const aio::LimitOverrunError& e) {
    EXPECT_GT(e.consumed, 16u);
  }
  // The data stayed: readline drops the long line and raises ValueError (std::invalid_argument).
  EXPECT_THROW(co_await r.readline(), std::invalid_argument);
  EXPECT_EQ(co_await r.readline(), "ok\n");
  w.close();
}

NET_TEST(Streams, PeerResetsMidRead) {
  // A raw peer: the test decides when it resets (SO_LINGER 0 + close = RST).
  auto [listener, r, w, peer] = co_await connect_to_raw_peer();
  co_await aio::sock_sendall(peer, "partial");
  EXPECT_EQ(co_await r.readexactly(7), "partial");
  auto reading = aio::ensure_future(r.read(100));
  co_await aio::sleep(0);
  linger l{1, 0};
  ::setsockopt(peer.fileno(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  peer.close();
  EXPECT_THROW(co_await reading, aio::ConnectionResetError);
  // A later drain reports it too.
  w.write("x");
  EXPECT_THROW(co_await w.drain(), aio::ConnectionError);
  EXPECT_TRUE(w.is_closing());
}

NET_TEST(Streams, WriteToResetPeerRaisesOnDrain) {
  auto [listener, r, w, peer] = co_await connect_to_raw_peer();
  linger l{1, 0};
  ::setsockopt(peer.fileno(), SOL_SOCKET, SO_LINGER, &l, sizeof l);
  peer.close();
  bool raised = false;
  try {
    for (int i = 0; i < 100; ++i) {
      w.write(std::string(65536, 'z'));
      co_await w.drain();
      co_await aio::sleep(0.01);
    }
  } catch (const aio::ConnectionError& e) {  // ConnectionResetError or BrokenPipeError
    raised = true;
    EXPECT_TRUE(e.code().value() == ECONNRESET || e.code().value() == EPIPE) << e.what();
  }
  EXPECT_TRUE(raised);
}

NET_TEST(Streams, SlowReaderBackPressure) {
  // The server does not read until told to; the client writes 16 MiB in 64 KiB chunks with
  // drain(): drain must block and the writer's buffer stay bounded by the high-water mark.
  aio::Event go;
  std::string received;
  auto handler = [&](aio::StreamReader r, aio::StreamWriter w) -> aio::Task<> {
    co_await go.wait();
    received = co_await r.read();
    w.close();
  };
  auto server = co_await aio::start_server(handler, "127.0.0.1", 0);
  auto [r, w] = co_await aio::open_connection("127.0.0.1", server.port());
  const std::string chunk = net_test::pattern(65536, 7);
  constexpr int kChunks = 256;
  int written = 0;
  std::size_t max_buffered = 0;
  aio::StreamWriter out = w;  // (clang 14 cannot capture a structured binding)
  auto write_all = [&]() -> aio::Task<> {  // named: the closure must outlive its coroutine
    for (int i = 0; i < kChunks; ++i) {
      out.write(chunk);
      max_buffered = std::max(max_buffered, out.transport().get_write_buffer_size());
      co_await out.drain();
      ++written;
    }
    out.write_eof();
  };
  auto writer = aio::create_task(write_all());
  co_await aio::sleep(5);  // the kernel's buffers fill up, then drain() has to wait
  EXPECT_LT(written, kChunks) << "drain() never blocked";
  EXPECT_FALSE(writer.done());
  auto [low, high] = w.transport().get_write_buffer_limits();
  EXPECT_EQ(high, 65536u);
  EXPECT_EQ(low, 16384u);
  EXPECT_LE(max_buffered, high + chunk.size());
  go.set();
  co_await aio::wait_for(writer, 30.0);
  EXPECT_EQ(written, kChunks);
  server.close();
  co_await aio::wait_for(server.wait_closed(), 30.0);  // the handler read everything and closed
  EXPECT_EQ(received.size(), chunk.size() * kChunks);
  bool same = true;
  for (int i = 0; i < kChunks && same; ++i) same = received.compare(i * chunk.size(), chunk.size(), chunk) == 0;
  EXPECT_TRUE(same);
  EXPECT_EQ(co_await r.read(), "");
}

NET_TEST(Streams, CancelledReadLosesNothing) {
  auto [listener, r, w, peer] = co_await connect_to_raw_peer();
  co_await aio::sock_sendall(peer, "12345");
  EXPECT_THROW(co_await aio::wait_for(r.readexactly(10), 0.5), aio::TimeoutError);
  EXPECT_THROW(co_await aio::wait_for(r.readline(), 0.5), aio::TimeoutError);
  co_await aio::sock_sendall(peer, "67890\n");
  EXPECT_EQ(co_await aio::wait_for(r.readexactly(10), 5.0), "1234567890");
  EXPECT_EQ(co_await aio::wait_for(r.readline(), 5.0), "\n");
  // A task cancelled while it waits: the bytes that come later are the next read's.
  auto pending = aio::ensure_future(r.read(100));
  co_await aio::sleep(0);
  pending.cancel();
  co_await aio::sleep(0);
  EXPECT_TRUE(pending.cancelled());
  co_await aio::sock_sendall(peer, "after");
  EXPECT_EQ(co_await r.readexactly(5), "after");
  w.close();
}

// A read() waiting on an empty buffer may get a received chunk as it is (io_uring hands it
// over without copying it into the buffer first): every other read still sees all bytes in order.
NET_TEST(Streams, ReadsAroundAChunkTakenWhole) {
  auto [listener, r, w, peer] = co_await connect_to_raw_peer();
  auto whole = aio::ensure_future(r.read(100));
  co_await aio::sleep(0);
  co_await aio::sock_sendall(peer, "abc");
  EXPECT_EQ(co_await whole, "abc");
  auto part = aio::ensure_future(r.read(2));  // smaller than what comes: the rest stays buffered
  co_await aio::sleep(0);
  co_await aio::sock_sendall(peer, "defgh");
  EXPECT_EQ(co_await part, "de");
  co_await aio::sock_sendall(peer, "\nxyz");
  EXPECT_EQ(co_await r.readline(), "fgh\n");
  EXPECT_EQ(co_await r.readexactly(3), "xyz");
  auto at_close = aio::ensure_future(r.read(100));
  co_await aio::sleep(0);
  co_await aio::sock_sendall(peer, "last");
  peer.close();
  std::string rest = co_await at_close;
  while (rest.size() < 4) {
    std::string more = co_await r.read(100);
    if (more.empty()) break;
    rest += more;
  }
  EXPECT_EQ(rest, "last");
  EXPECT_EQ(co_await r.read(100), "");
  EXPECT_TRUE(r.at_eof());
  w.close();
}

// An echo loop (read -> write of the moved string) receives each message into storage an
// earlier write gave back: messages that outgrow it, arrive two at once or shrink keep every
// byte in order.
NET_TEST(Streams, EchoLoopOverWrittenStorageKeepsEveryByte) {
  auto [listener, r, w, peer] = co_await connect_to_raw_peer();
  for (std::size_t size : {16384, 16384, 16384, 100, 16384, 40000, 3, 16384, 70000, 16384, 16000, 16900, 1}) {
    const std::string sent = net_test::pattern(size, static_cast<unsigned>(size));
    auto sending = aio::ensure_future(aio::sock_sendall(peer, sent));  // runs once the read waits
    std::string got = co_await r.read(65536);
    co_await sending;
    while (got.size() < std::min<std::size_t>(sent.size(), 65536)) got += co_await r.read(65536 - got.size());
    EXPECT_EQ(got, sent.substr(0, got.size()));
    const std::size_t n = got.size();
    w.write(std::move(got));
    co_await w.drain();
    std::string echoed;
    while (echoed.size() < n) echoed += co_await aio::sock_recv(peer, n - echoed.size());
    EXPECT_EQ(echoed, sent.substr(0, n));
    std::string rest = sent.substr(n);
    while (!rest.empty()) {  // more than one read's worth: the rest is buffered, in order
      std::string more = co_await r.read(65536);
      if (more.empty()) {
        ADD_FAILURE() << rest.size() << " bytes never came";
        co_return;
      }
      EXPECT_EQ(more, rest.substr(0, more.size()));
      rest.erase(0, more.size());
    }
  }
  w.close();
}

NET_TEST(Streams, WaitForReadlineInTime) {
  auto handler = [](aio::StreamReader r, aio::StreamWriter w) -> aio::Task<> {
    std::string line = co_await r.readline();
    co_await aio::sleep(0.2);
    w.write("re: " + line);
    co_await w.drain();
  };
  auto server = co_await aio::start_server(handler, "127.0.0.1", 0);
  auto [r, w] = co_await aio::open_connection("127.0.0.1", server.port());
  w.write("ping\n");
  EXPECT_EQ(co_await aio::wait_for(r.readline(), 1.0), "re: ping\n");
}

NET_TEST(Streams, CloseWakesTheReader) {
  auto server = co_await echo_server();
  auto [r, w] = co_await aio::open_connection("127.0.0.1", server.port());
  auto reading = aio::ensure_future(r.read(10));
  auto exact = aio::ensure_future(aio::StreamReader(r).readexactly(0));  // ready at once
  co_await aio::sleep(0);
  w.close();  // a local close ends the reader with EOF, as asyncio does
  EXPECT_EQ(co_await reading, "");
  EXPECT_EQ(co_await exact, "");
  co_await w.wait_closed();
  EXPECT_THROW(co_await r.readexactly(1), aio::IncompleteReadError);
}

NET_TEST(Streams, AbortWakesTheDrainer) {
  // The peer never reads: drain() waits; aborting the transport wakes it with an error.
  RawPeerConnection c = co_await connect_to_raw_peer();
  aio::StreamWriter& w = c.writer;
  aio::StreamWriter out = w;
  auto fill = [&]() -> aio::Task<> {
    const std::string chunk(65536, 'f');
    for (;;) {
      out.write(chunk);
      co_await out.drain();
    }
  };
  auto filling = aio::create_task(fill());
  co_await aio::sleep(5);  // the kernel's buffers fill up: drain() waits
  EXPECT_FALSE(filling.done());
  w.transport().abort();
  try {
    co_await aio::wait_for(filling, 5.0);
    ADD_FAILURE() << "drain() returned after abort()";
  } catch (const aio::ConnectionResetError& e) {
    EXPECT_STREQ(e.what(), "Connection lost");  // asyncio's words
  }
  EXPECT_EQ(co_await c.reader.read(), "");  // the reader: EOF
}

NET_TEST(Streams, DrainTimeoutLeavesTheWriterUsable) {
  RawPeerConnection c = co_await connect_to_raw_peer();
  aio::StreamWriter& w = c.writer;
  const std::string data = net_test::pattern(16 << 20, 5);  // more than the kernel buffers hold
  w.write(data);
  EXPECT_THROW(co_await aio::wait_for(w.drain(), 0.5), aio::TimeoutError);  // nobody reads yet
  std::string got;
  auto read_all = [&]() -> aio::Task<> {
    while (got.size() < data.size()) got += co_await aio::sock_recv(c.peer, 1 << 20);
  };
  auto reading = aio::create_task(read_all());
  co_await aio::wait_for(w.drain(), 30.0);  // the same writer drains once the peer reads
  co_await aio::wait_for(reading, 30.0);
  EXPECT_TRUE(got == data);
  w.close();
}

NET_TEST(Streams, SecondReaderIsAnError) {
  auto server = co_await echo_server();
  auto [r, w] = co_await aio::open_connection("127.0.0.1", server.port());
  auto first = aio::ensure_future(r.read(10));
  co_await aio::sleep(0);
  EXPECT_THROW(co_await r.read(10), std::runtime_error);
  w.write("x");
  EXPECT_EQ(co_await first, "x");
  w.close();
}

NET_TEST(Streams, ConnectToClosedPort) {
  aio::Socket s(AF_INET, SOCK_STREAM);
  s.bind(aio::SockAddr{"127.0.0.1", 0});
  int port = s.getsockname().port;
  s.close();  // bound once, now nobody listens there
  try {
    co_await aio::open_connection("127.0.0.1", port);
    ADD_FAILURE() << "connected to a closed port";
  } catch (const aio::ConnectionRefusedError& e) {
    EXPECT_EQ(e.code().value(), ECONNREFUSED);
    EXPECT_EQ(std::string(e.what()), "[Errno 111] Connect call failed ('127.0.0.1', " + std::to_string(port) + ")");
  }
}

namespace {

/// The peer address the server saw for one connection from `host` with `.local_addr = local`,
/// checked against the client's own sockname.
aio::Task<aio::SockAddr> peer_seen_from(std::string host, aio::SockAddr local) {
  auto seen = aio::get_running_loop().create_future<aio::SockAddr>();
  auto handler = [&](aio::StreamReader, aio::StreamWriter w) -> aio::Task<> {
    seen.set_result(std::any_cast<aio::SockAddr>(w.get_extra_info("peername")));
    w.close();
    co_return;
  };
  auto server = co_await aio::start_server(handler, host, 0);
  aio::OpenConnectionOptions options;
  options.local_addr = local;
  auto [r, w] = co_await aio::open_connection(host, server.port(), options);
  aio::SockAddr peer = co_await seen;
  EXPECT_EQ(peer, std::any_cast<aio::SockAddr>(w.get_extra_info("sockname")));
  w.close();
  server.close();
  co_await server.wait_closed();
  co_return peer;
}

/// A port nobody uses right now on `host` (bound once, then released).
int free_port(const std::string& host) {
  aio::Socket probe(host.find(':') == std::string::npos ? AF_INET : AF_INET6, SOCK_STREAM);
  probe.bind(aio::SockAddr{host, 0});
  return probe.getsockname().port;
}

}  // namespace

NET_TEST(Streams, LocalAddr) {
  // Port 0: any port, on the address given (127.0.0.2 is a loopback address the kernel would
  // not pick by itself for 127.0.0.1, so seeing it proves the bind).
  const aio::SockAddr any_port{"127.0.0.2", 0};
  aio::SockAddr v4 = co_await peer_seen_from("127.0.0.1", any_port);
  EXPECT_EQ(v4.host, "127.0.0.2");
  EXPECT_NE(v4.port, 0);
  const aio::SockAddr v4_local{"127.0.0.1", static_cast<std::uint16_t>(free_port("127.0.0.1"))};
  EXPECT_EQ(co_await peer_seen_from("127.0.0.1", v4_local), v4_local);
  const aio::SockAddr v6_local{"::1", static_cast<std::uint16_t>(free_port("::1"))};
  EXPECT_EQ(co_await peer_seen_from("::1", v6_local), v6_local);
}

NET_TEST(Streams, LocalAddrThatCannotBind) {
  auto server = co_await echo_server();
  auto connect_from = [&](aio::SockAddr local) -> aio::Task<std::string> {
    aio::OpenConnectionOptions options;
    options.local_addr = std::move(local);
    try {
      co_await aio::open_connection("127.0.0.1", server.port(), options);
    } catch (const aio::OSError& e) {
      co_return std::string(e.what());
    }
    co_return std::string("connected");
  };
  // An address of no interface here (TEST-NET-1).
  const aio::SockAddr foreign{"192.0.2.1", 0};
  EXPECT_EQ(co_await connect_from(foreign),
            "[Errno 99] error while attempting to bind on address ('192.0.2.1', 0): cannot assign requested address");
  // A port already taken by a listening socket.
  aio::Socket taken(AF_INET, SOCK_STREAM);
  const aio::SockAddr loopback_any{"127.0.0.1", 0};
  taken.bind(loopback_any);
  taken.listen();
  const aio::SockAddr busy = taken.getsockname();
  EXPECT_EQ(co_await connect_from(busy), "[Errno 98] error while attempting to bind on address ('127.0.0.1', " +
                                             std::to_string(busy.port) + "): address already in use");
  // A local address of the other family.
  const aio::SockAddr six{"::1", 0};
  EXPECT_EQ(co_await connect_from(six), "[Errno 99] no matching local address with family=AF_INET found");
  server.close();
  co_await server.wait_closed();
}

NET_TEST(Streams, WriteEofHalfClose) {
  auto handler = [](aio::StreamReader r, aio::StreamWriter w) -> aio::Task<> {
    std::string all = co_await r.read();  // until the client's EOF
    w.write("got " + std::to_string(all.size()));
    co_await w.drain();
    w.close();
  };
  auto server = co_await aio::start_server(handler, "127.0.0.1", 0);
  auto [r, w] = co_await aio::open_connection("127.0.0.1", server.port());
  EXPECT_TRUE(w.can_write_eof());
  w.writelines({"abc", "def", "ghi"});
  w.write_eof();
  EXPECT_THROW(w.write("late"), std::runtime_error);
  EXPECT_EQ(co_await r.read(), "got 9");
  w.close();
}

NET_TEST(Streams, UnixSockets) {
  std::string path = "/tmp/aio-net-test-" + std::to_string(::getpid()) + ".sock";
  auto server = co_await aio::start_unix_server(net_test::echo_handler, path);
  auto [r, w] = co_await aio::open_unix_connection(path);
  w.write("over unix\n");
  EXPECT_EQ(co_await r.readline(), "over unix\n");
  EXPECT_EQ(std::any_cast<std::string>(w.get_extra_info("peername")), path);
  w.close();
  co_await w.wait_closed();
  server.close();
  co_await server.wait_closed();
  EXPECT_NE(::access(path.c_str(), F_OK), 0);  // the socket file went with the server
}

NET_TEST(Streams, StandaloneReader) {
  aio::StreamReader r;
  r.feed_data("abc\nde");
  EXPECT_EQ(co_await r.readline(), "abc\n");
  auto later = aio::ensure_future(r.readexactly(4));
  co_await aio::sleep(0);
  r.feed_data("fg");
  r.feed_eof();
  EXPECT_EQ(co_await later, "defg");
  EXPECT_TRUE(r.at_eof());
  aio::StreamReader broken;
  broken.set_exception(std::make_exception_ptr(aio::ConnectionResetError("Connection lost")));
  EXPECT_THROW(co_await broken.read(1), aio::ConnectionResetError);
}

// The seeds' "download three images": three concurrent fetches from a local HTTP-ish server.
namespace {

aio::Task<> image_server(aio::StreamReader r, aio::StreamWriter w) {
  std::string head = co_await r.readuntil("\r\n\r\n");
  std::string path = head.substr(4, head.find(' ', 4) - 4);
  std::size_t size = path == "/a.png" ? 100000 : path == "/b.png" ? 250000 : path == "/c.png" ? 700000 : 0;
  if (!size) {
    w.write("HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  } else {
    w.write("HTTP/1.0 200 OK\r\nContent-Type: image/png\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n");
    w.write(net_test::pattern(size, static_cast<unsigned>(size)));
  }
  co_await w.drain();
  w.close();
}

aio::Task<std::string> fetch(int port, std::string path) {
  auto [r, w] = co_await aio::open_connection("127.0.0.1", port);
  w.write("GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  std::string head = co_await r.readuntil("\r\n\r\n");
  EXPECT_EQ(head.substr(0, 12), "HTTP/1.0 200");
  auto at = head.find("Content-Length: ");
  std::size_t length = std::stoul(head.substr(at + 16));
  std::string body = co_await r.readexactly(static_cast<std::ptrdiff_t>(length));
  EXPECT_EQ(co_await r.read(), "");
  w.close();
  co_return body;
}

}  // namespace

NET_TEST(Streams, DownloadThreeImages) {
  auto server = co_await aio::start_server(image_server, "127.0.0.1", 0);
  std::vector<aio::TaskHandle<std::string>> tasks;
  for (const char* path : {"/a.png", "/b.png", "/c.png"}) tasks.push_back(aio::create_task(fetch(server.port(), path)));
  auto [done, pending] = co_await aio::wait(tasks);
  EXPECT_EQ(done.size(), 3u);
  EXPECT_TRUE(pending.empty());
  EXPECT_EQ(tasks[0].result(), net_test::pattern(100000, 100000));
  EXPECT_EQ(tasks[1].result(), net_test::pattern(250000, 250000));
  EXPECT_EQ(tasks[2].result(), net_test::pattern(700000, 700000));
}
