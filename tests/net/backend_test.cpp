// Backend selection: RunOptions.backend, AIO_BACKEND, automatic.
#include <cstdlib>

#include "net_test_util.hpp"

namespace {
aio::Task<aio::Backend> which() { co_return aio::get_running_loop().poller().backend(); }
}  // namespace

TEST(Backend, RunOptionsChooses) {
  EXPECT_EQ(aio::run(which(), {.backend = aio::Backend::epoll}), aio::Backend::epoll);
  EXPECT_EQ(aio::run(which(), {.backend = aio::Backend::io_uring}), aio::Backend::io_uring);
}

TEST(Backend, EnvironmentChoosesForAutomatic) {
  const char* saved = std::getenv("AIO_BACKEND");
  std::string keep = saved ? saved : "";
  ::setenv("AIO_BACKEND", "epoll", 1);
  EXPECT_EQ(aio::run(which()), aio::Backend::epoll);
  ::setenv("AIO_BACKEND", "io_uring", 1);
  EXPECT_EQ(aio::run(which()), aio::Backend::io_uring);
  ::unsetenv("AIO_BACKEND");
  // This kernel allows io_uring: automatic picks it.
  EXPECT_EQ(aio::run(which()), aio::Backend::io_uring);
  if (saved) ::setenv("AIO_BACKEND", keep.c_str(), 1);
}

// The same program gives the same bytes either way (uvloop's promise).
NET_TEST(Backend, SameProgramSameResult) {
  auto server = co_await aio::start_server(net_test::echo_handler, "127.0.0.1", 0);
  std::string all;
  for (int i = 0; i < 20; ++i) {
    auto [r, w] = co_await aio::open_connection("127.0.0.1", server.port());
    w.write(net_test::pattern(1000 + i * 977, i));
    w.write_eof();
    all += co_await r.read();
  }
  std::string expected;
  for (int i = 0; i < 20; ++i) expected += net_test::pattern(1000 + i * 977, i);
  EXPECT_EQ(all, expected);
}
