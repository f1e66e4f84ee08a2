// start_server: port 0, reuse_port, backlog, serve_forever, close/wait_closed, clients, many
// connections — on both backends.
#include <netinet/in.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "net_test_util.hpp"

NET_TEST(Server, PortZeroAndSockets) {
  aio::StartServerOptions options;
  options.backlog = 512;
  auto server = co_await aio::start_server(net_test::echo_handler, "127.0.0.1", 0, options);
  EXPECT_GT(server.port(), 0);
  EXPECT_TRUE(server.is_serving());
  EXPECT_EQ(server.sockets(), (std::vector<aio::SockAddr>{{"127.0.0.1", static_cast<std::uint16_t>(server.port())}}));
  server.close();
  EXPECT_FALSE(server.is_serving());
  co_await server.wait_closed();
  EXPECT_TRUE(server.sockets().empty());
}

NET_TEST(Server, ReusePort) {
  aio::StartServerOptions options;
  options.reuse_port = true;
  auto a = co_await aio::start_server(net_test::echo_handler, "127.0.0.1", 0, options);
  auto b = co_await aio::start_server(net_test::echo_handler, "127.0.0.1", a.port(), options);
  EXPECT_EQ(a.port(), b.port());
  for (int i = 0; i < 4; ++i) {
    auto [r, w] = co_await aio::open_connection("127.0.0.1", a.port());
    w.write("x\n");
    EXPECT_EQ(co_await r.readline(), "x\n");
    w.close();
  }
  // Without it, the port is taken: EADDRINUSE.
  try {
    co_await aio::start_server(net_test::echo_handler, "127.0.0.1", a.port());
    ADD_FAILURE() << "bound a busy port";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EADDRINUSE);
    EXPECT_NE(std::string(e.what()).find("error while attempting to bind on address"), std::string::npos);
  }
}

NET_TEST(Server, ClosedWhileClientsAreConnected) {
  auto server = co_await aio::start_server(net_test::echo_handler, "127.0.0.1", 0);
  const int port = server.port();
  auto [r, w] = co_await aio::open_connection("127.0.0.1", port);
  w.write("before\n");
  EXPECT_EQ(co_await r.readline(), "before\n");
  server.close();
  // New connections are refused; the one already open goes on working (asyncio 3.12).
  EXPECT_THROW(co_await aio::open_connection("127.0.0.1", port), aio::ConnectionRefusedError);
  w.write("after\n");
  EXPECT_EQ(co_await r.readline(), "after\n");
  auto closed = aio::ensure_future(server.wait_closed());
  co_await aio::sleep(0.1);
  EXPECT_FALSE(closed.done()) << "wait_closed() returned with a connection still open";
  w.close();  // the handler sees EOF, closes its side: the last connection is gone
  co_await aio::wait_for(closed, 5.0);
}

NET_TEST(Server, CloseAndAbortClients) {
  auto server = co_await aio::start_server(net_test::echo_handler, "127.0.0.1", 0);
  auto [r1, w1] = co_await aio::open_connection("127.0.0.1", server.port());
  auto [r2, w2] = co_await aio::open_connection("127.0.0.1", server.port());
  w1.write("1\n");
  w2.write("2\n");
  EXPECT_EQ(co_await r1.readline(), "1\n");
  EXPECT_EQ(co_await r2.readline(), "2\n");
  server.close();
  server.close_clients();
  EXPECT_EQ(co_await r1.read(), "");  // the server closed them
  EXPECT_EQ(co_await r2.read(), "");
  co_await aio::wait_for(server.wait_closed(), 5.0);
}

NET_TEST(Server, ServeForeverUntilCancelled) {
  aio::StartServerOptions options;
  options.start_serving = false;
  auto server = co_await aio::start_server(net_test::echo_handler, "127.0.0.1", 0, options);
  EXPECT_FALSE(server.is_serving());
  auto forever = aio::create_task(server.serve_forever());
  co_await aio::sleep(0);
  EXPECT_TRUE(server.is_serving());
  EXPECT_THROW(co_await server.serve_forever(), std::runtime_error);  // already being awaited
  auto [r, w] = co_await aio::open_connection("127.0.0.1", server.port());
  w.write("hi\n");
  EXPECT_EQ(co_await r.readline(), "hi\n");
  w.close();
  forever.cancel();
  EXPECT_THROW(co_await forever, aio::CancelledError);
  EXPECT_FALSE(server.is_serving());
}

NET_TEST(Server, AsyncWith) {
  int port = 0;
  aio::Server outer;
  co_await aio::with(co_await aio::start_server(net_test::echo_handler, "127.0.0.1", 0), [&](aio::Server& s) -> aio::Task<> {
    port = s.port();
    outer = s;
    auto [r, w] = co_await aio::open_connection("127.0.0.1", port);
    w.write("with\n");
    EXPECT_EQ(co_await r.readline(), "with\n");
    w.close();
  });
  EXPECT_FALSE(outer.is_serving());
  EXPECT_THROW(co_await aio::open_connection("127.0.0.1", port), aio::ConnectionRefusedError);
}

NET_TEST(Server, HandlerExceptionIsReported) {
  std::string reported;
  aio::get_running_loop().set_exception_handler([&](aio::EventLoop&, const aio::ExceptionContext& ctx) { reported = ctx.message; });
  auto handler = [](aio::StreamReader, aio::StreamWriter) -> aio::Task<> {
    throw std::runtime_error("handler failed");
    co_return;
  };
  auto server = co_await aio::start_server(handler, "127.0.0.1", 0);
  auto [r, w] = co_await aio::open_connection("127.0.0.1", server.port());
  EXPECT_EQ(co_await r.read(), "");  // the connection is closed when the handler ends
  EXPECT_EQ(reported, "Unhandled exception in client_connected_cb");
  aio::get_running_loop().set_exception_handler(nullptr);
}

namespace {

/// The clients of TenThousandConnections, in a child process (the two ends of 10,000
/// connections would need 20,000 descriptors in one process): connect them all, then send a
/// line on each and check every echo. Exit status 0 when all came back.
[[noreturn]] void run_clients(int port, int clients) {
  ::alarm(120);
  std::vector<int> fds;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < clients; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{30, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) ::_exit(2);
    fds.push_back(fd);
  }
  for (int i = 0; i < clients; ++i) {
    std::string line = "client " + std::to_string(i) + "\n";
    if (::write(fds[i], line.data(), line.size()) != static_cast<ssize_t>(line.size())) ::_exit(3);
  }
  for (int i = 0; i < clients; ++i) {
    std::string want = "client " + std::to_string(i) + "\n", got;
    char c;
    while (got.size() < want.size() && ::read(fds[i], &c, 1) == 1) got += c;
    if (got != want) ::_exit(4);
  }
  ::_exit(0);
}

}  // namespace

NET_TEST(Server, TenThousandConnections) {
  // 10,000 connections open at once: the server's ends here, the clients' in a child process.
  constexpr int kClients = 10000;
  rlim_t limit = net_test::raise_fd_limit(kClients + 1024);
  int clients = kClients;
  if (limit < kClients + 1024) {  // only when the hard limit forbids it
    clients = static_cast<int>(limit) - 1024;
    std::printf("RLIMIT_NOFILE hard limit %llu forbids %d connections: testing %d\n",
                static_cast<unsigned long long>(limit), kClients, clients);
  }
  aio::StartServerOptions options;
  options.backlog = 4096;
  int open = 0, most_open = 0, echoed = 0;
  aio::Event all_open;
  auto handler = [&](aio::StreamReader r, aio::StreamWriter w) -> aio::Task<> {
    most_open = std::max(most_open, ++open);
    if (open == clients) all_open.set();
    co_await all_open.wait();  // every connection is open now
    std::string line = co_await r.readline();
    w.write(line);
    co_await w.drain();
    if (!line.empty()) ++echoed;
    co_await r.read();  // until the client goes
    --open;
  };
  auto server = co_await aio::start_server(handler, "127.0.0.1", 0, options);
  pid_t child = ::fork();
  if (child == 0) run_clients(server.port(), clients);
  EXPECT_GT(child, 0);
  int status = -1;
  for (int i = 0; i < 100000; ++i) {  // the loop serves while the child runs
    if (::waitpid(child, &status, WNOHANG) == child) break;
    co_await aio::sleep(0.01);
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "client process status " << status;
  EXPECT_EQ(most_open, clients);
  EXPECT_EQ(echoed, clients);
  server.close();
  co_await aio::wait_for(server.wait_closed(), 60.0);
  EXPECT_EQ(open, 0);
}
