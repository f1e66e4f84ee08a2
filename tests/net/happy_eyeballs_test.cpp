// detail::connect_any against real listening sockets on 127.0.0.1 and ::1: success,
// a closed port, fallback across addresses, the staggered start (happy_eyeballs_delay),
// family interleaving, cancellation without leaked sockets.
#include <aio/net/happy_eyeballs.hpp>

#include <fcntl.h>

#include <cerrno>
#include <chrono>
#include <optional>

#include <aio/testing.hpp>

#include "dns_stub.hpp"

namespace {

using aio::AddrInfo;

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

AddrInfo addr(const std::string& host, std::uint16_t port) {
  AddrInfo info;
  info.sockaddr = aio::SocketAddress::parse(host, port);
  info.family = info.sockaddr.family();
  info.type = SOCK_STREAM;
  info.proto = IPPROTO_TCP;
  return info;
}

/// A listening TCP socket on `host`, port chosen by the kernel.
struct Listener {
  int fd = -1;
  std::uint16_t port = 0;
  explicit Listener(const std::string& host, int backlog = 16) {
    auto a = aio::SocketAddress::parse(host, 0);
    fd = ::socket(a.family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || ::bind(fd, a.data(), a.size()) < 0 || ::listen(fd, backlog) < 0) {
      if (fd >= 0) ::close(fd);
      fd = -1;
      return;
    }
    socklen_t len = sizeof a.storage;
    ::getsockname(fd, a.data(), &len);
    a.length = len;
    port = a.port();
  }
  ~Listener() {
    if (fd >= 0) ::close(fd);
  }
  explicit operator bool() const { return fd >= 0; }
};

/// A port on `host` where nothing listens (bound, then closed: refused from then on).
std::uint16_t closed_port(const std::string& host) {
  Listener l(host);
  return l.port;
}

/// A listener whose accept queue is full: connecting to it hangs in SYN-SENT.
struct BlackHole {
  Listener listener;
  std::vector<int> fillers;
  BlackHole() : listener(std::string("127.0.0.1"), 0) {
    auto target = aio::SocketAddress::parse("127.0.0.1", listener.port);
    for (int i = 0; i < 8; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      ::connect(fd, target.data(), target.size());
      fillers.push_back(fd);
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, 100) == 0) break;  // this one hangs: the queue is full
    }
  }
  ~BlackHole() {
    for (int fd : fillers) ::close(fd);
  }
};

bool have_ipv6() {
  Listener l("::1");
  return static_cast<bool>(l);
}

std::uint16_t peer_port(int fd) {
  aio::SocketAddress peer;
  socklen_t len = sizeof peer.storage;
  if (::getpeername(fd, peer.data(), &len) < 0) return 0;
  peer.length = len;
  return peer.port();
}

using aio::testing::error_from;
using aio::testing::error_of;

/// The address list, built outside the coroutine (GCC 12 miscompiles an initializer_list
/// inside a co_await expression: "array used as initializer").
template <class... A>
std::vector<AddrInfo> list(A... a) {
  std::vector<AddrInfo> v;
  (v.push_back(std::move(a)), ...);
  return v;
}

std::vector<std::string> order(const std::vector<AddrInfo>& v) {
  std::vector<std::string> out;
  for (const auto& a : v) out.push_back(a.sockaddr.host() + ":" + std::to_string(a.sockaddr.port()));
  return out;
}

}  // namespace

TEST(HappyEyeballs, InterleaveAsAsyncio) {
  using S = std::vector<std::string>;
  std::vector<AddrInfo> v = {addr("::1", 1), addr("::1", 2), addr("127.0.0.1", 3), addr("127.0.0.1", 4)};
  EXPECT_EQ(order(aio::detail::interleave_addrinfos(v)), (S{"::1:1", "127.0.0.1:3", "::1:2", "127.0.0.1:4"}));
  EXPECT_EQ(order(aio::detail::interleave_addrinfos(v, 2)), (S{"::1:1", "::1:2", "127.0.0.1:3", "127.0.0.1:4"}));
  std::vector<AddrInfo> w = {addr("127.0.0.1", 1), addr("127.0.0.1", 2), addr("127.0.0.1", 3), addr("::1", 4)};
  EXPECT_EQ(order(aio::detail::interleave_addrinfos(w)), (S{"127.0.0.1:1", "::1:4", "127.0.0.1:2", "127.0.0.1:3"}));
  EXPECT_TRUE(aio::detail::interleave_addrinfos({}).empty());
}

AIO_REAL_TEST(HappyEyeballs, ConnectsToAListener) {
  Listener server("127.0.0.1");
  int fd = co_await aio::detail::connect_any(list(addr("127.0.0.1", server.port)));
  EXPECT_GE(fd, 0);
  EXPECT_EQ(peer_port(fd), server.port);
  EXPECT_TRUE(::fcntl(fd, F_GETFL) & O_NONBLOCK);
  EXPECT_TRUE(::fcntl(fd, F_GETFD) & FD_CLOEXEC);
  int accepted = ::accept(server.fd, nullptr, nullptr);
  EXPECT_GE(accepted, 0);
  EXPECT_EQ(::write(fd, "x", 1), 1);
  char c = 0;
  EXPECT_EQ(::read(accepted, &c, 1), 1);
  EXPECT_EQ(c, 'x');
  ::close(accepted);
  ::close(fd);
}

TEST(HappyEyeballs, ConnectsOverIPv6) {
  ASSERT_TRUE(have_ipv6()) << "the net suite needs a ::1 listener (the stream tests use it too)";
  aio::run([]() -> aio::Task<> {
    Listener server("::1");
    int fd = co_await aio::detail::connect_any(list(addr("::1", server.port)), 0.25);
    EXPECT_EQ(peer_port(fd), server.port);
    ::close(fd);
  }());
}

AIO_REAL_TEST(HappyEyeballs, ClosedPortIsConnectionRefused) {
  const auto port = closed_port("127.0.0.1");
  const int fds = aio_test::open_fds();
  auto e = co_await error_of<std::system_error>(aio::detail::connect_any(list(addr("127.0.0.1", port))));
  EXPECT_TRUE(e.has_value());
  if (e) {
    EXPECT_EQ(e->code(), std::error_code(ECONNREFUSED, std::system_category()));
    const std::string expected = "Connect call failed ('127.0.0.1', " + std::to_string(port) + ")";
    EXPECT_NE(std::string(e->what()).find(expected), std::string::npos) << e->what();
  }
  EXPECT_EQ(aio_test::open_fds(), fds);
}

AIO_REAL_TEST(HappyEyeballs, FallsBackToTheNextAddress) {
  Listener server("127.0.0.1");
  const auto dead = closed_port("127.0.0.1");
  int fd = co_await aio::detail::connect_any(list(addr("127.0.0.1", dead), addr("127.0.0.1", server.port)));
  EXPECT_EQ(peer_port(fd), server.port);
  ::close(fd);
}

TEST(HappyEyeballs, AllFailingWithDifferentErrorsIsMultipleExceptions) {
  ASSERT_TRUE(have_ipv6()) << "the net suite needs a ::1 listener (the stream tests use it too)";
  aio::run([]() -> aio::Task<> {
    const auto p6 = closed_port("::1");
    const auto p4 = closed_port("127.0.0.1");
    auto e = co_await error_of<std::system_error>(
        aio::detail::connect_any(list(addr("::1", p6), addr("127.0.0.1", p4)), 0.25));
    EXPECT_TRUE(e.has_value());
    if (e) {
      const std::string what = e->what();
      EXPECT_EQ(what.rfind("Multiple exceptions: [Errno 111] Connect call failed ('::1', ", 0), 0u) << what;
      EXPECT_NE(what.find("Connect call failed ('127.0.0.1', " + std::to_string(p4) + ")"), std::string::npos);
      EXPECT_EQ(e->code().value(), ECONNREFUSED);
    }
  }());
}

AIO_REAL_TEST(HappyEyeballs, StaggeredStartAfterTheDelay) {
  BlackHole hole;
  Listener server("127.0.0.1");
  const double started = now();
  int fd = co_await aio::detail::connect_any(
      list(addr("127.0.0.1", hole.listener.port), addr("127.0.0.1", server.port)), 0.05);
  const double took = now() - started;
  EXPECT_EQ(peer_port(fd), server.port);
  EXPECT_GE(took, 0.045);
  EXPECT_LT(took, 1.0);
  ::close(fd);
}

AIO_REAL_TEST(HappyEyeballs, FailureStartsTheNextAttemptAtOnce) {
  Listener server("127.0.0.1");
  const auto dead = closed_port("127.0.0.1");
  const double started = now();
  int fd = co_await aio::detail::connect_any(list(addr("127.0.0.1", dead), addr("127.0.0.1", server.port)), 5.0);
  EXPECT_LT(now() - started, 1.0);  // not 5 s: a refused attempt hands over immediately
  EXPECT_EQ(peer_port(fd), server.port);
  ::close(fd);
}

AIO_REAL_TEST(HappyEyeballs, WithoutDelayAttemptsAreSequential) {
  BlackHole hole;
  Listener server("127.0.0.1");
  const int fds = aio_test::open_fds();
  // The first address never answers and without a delay the second one never starts.
  auto e = co_await error_from<aio::TimeoutError>([&] {
    return aio::wait_for(
        aio::detail::connect_any(list(addr("127.0.0.1", hole.listener.port), addr("127.0.0.1", server.port))), 0.1);
  });
  EXPECT_TRUE(e.has_value());
  EXPECT_EQ(aio_test::open_fds(), fds);  // cancellation closed the pending socket
  pollfd p{server.fd, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0);  // nobody connected to the second address
}

AIO_REAL_TEST(HappyEyeballs, CancellingClosesEverySocket) {
  BlackHole hole;
  BlackHole hole2;
  const int fds = aio_test::open_fds();
  const auto before = aio::get_running_loop().poller().watched();
  auto task = aio::create_task(aio::detail::connect_any(
      list(addr("127.0.0.1", hole.listener.port), addr("127.0.0.1", hole2.listener.port)), 0.01));
  co_await aio::sleep(0.05);  // both attempts are pending now
  EXPECT_EQ(aio::get_running_loop().poller().watched(), before + 2);
  task.cancel();
  auto e = co_await error_of<aio::CancelledError>(task);
  EXPECT_TRUE(e.has_value());
  EXPECT_EQ(aio_test::open_fds(), fds);
  EXPECT_EQ(aio::get_running_loop().poller().watched(), before);
}

TEST(HappyEyeballs, InterleavedFamiliesWithDelay) {
  ASSERT_TRUE(have_ipv6()) << "the net suite needs a ::1 listener (the stream tests use it too)";
  aio::run([]() -> aio::Task<> {
    Listener server("127.0.0.1");
    // ::1 refused, then (interleaved) 127.0.0.1 before the second ::1 address.
    const auto dead6 = closed_port("::1");
    int fd = co_await aio::detail::connect_any(
        list(addr("::1", dead6), addr("::1", dead6), addr("127.0.0.1", server.port)), 0.25);
    EXPECT_EQ(peer_port(fd), server.port);
    ::close(fd);
  }());
}

struct MyRefused : std::system_error {
  using std::system_error::system_error;
};

AIO_REAL_TEST(HappyEyeballs, ErrorFactoryMakesTypedErrors) {
  const auto port = closed_port("127.0.0.1");
  aio::detail::ConnectOptions options;
  options.make_error = [](int error, const std::string& message) {
    return std::make_exception_ptr(MyRefused(error, std::system_category(), message));
  };
  auto e = co_await error_of<MyRefused>(aio::detail::connect_any(list(addr("127.0.0.1", port)), options));
  EXPECT_TRUE(e.has_value());
}

AIO_REAL_TEST(HappyEyeballs, EmptyListIsAnError) {
  auto e = co_await error_of<std::system_error>(aio::detail::connect_any(list()));
  EXPECT_TRUE(e.has_value());
}

AIO_REAL_TEST(HappyEyeballs, ResolveThenConnect) {
  Listener server("127.0.0.1");
  auto infos = co_await aio::getaddrinfo("localhost", server.port, {.family = AF_INET, .type = SOCK_STREAM});
  int fd = co_await aio::detail::connect_any(infos, 0.25);
  EXPECT_EQ(peer_port(fd), server.port);
  ::close(fd);
}

AIO_REAL_TEST(HappyEyeballs, LocalAddressIsBoundFirst) {
  Listener server("127.0.0.1");
  Listener taken("127.0.0.1");  // a port already in use
  const int fds = aio_test::open_fds();
  aio::detail::ConnectOptions options;
  options.local_addrs = list(addr("::1", 0), addr("127.0.0.1", 0));
  int fd = co_await aio::detail::connect_any(list(addr("127.0.0.1", server.port)), options);
  aio::SocketAddress local;
  socklen_t len = sizeof local.storage;
  ::getsockname(fd, local.data(), &len);
  local.length = len;
  EXPECT_EQ(local.host(), "127.0.0.1");  // the IPv4 one: families must match
  ::close(fd);

  options.local_addrs = list(addr("::1", 0));
  auto none = co_await error_of<std::system_error>(aio::detail::connect_any(list(addr("127.0.0.1", server.port)), options));
  EXPECT_TRUE(none.has_value());
  if (none) {
    EXPECT_NE(std::string(none->what()).find("no matching local address with family=AF_INET found"), std::string::npos)
        << none->what();
  }
  options.local_addrs = list(addr("127.0.0.1", taken.port));
  auto in_use = co_await error_of<std::system_error>(aio::detail::connect_any(list(addr("127.0.0.1", server.port)), options));
  EXPECT_TRUE(in_use.has_value());
  if (in_use) {
    EXPECT_EQ(in_use->code().value(), EADDRINUSE);
    EXPECT_NE(std::string(in_use->what()).find("error while attempting to bind on address ('127.0.0.1', "), std::string::npos)
        << in_use->what();
  }
  EXPECT_EQ(aio_test::open_fds(), fds);
}
