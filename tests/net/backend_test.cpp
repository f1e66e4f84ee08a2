// Backend selection: RunOptions.backend, AIO_BACKEND, automatic, and the fallback to epoll.
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
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

namespace {

/// Makes io_uring_setup fail with ENOSYS in this process from now on, as on a kernel without
/// io_uring (or one where it is disabled). False when seccomp is not available.
bool refuse_io_uring() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0) == 0;
}

}  // namespace

TEST(Backend, AutomaticFallsBackToEpollWithADebugLine) {
  // In a child process: the filter cannot be taken back.
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (!refuse_io_uring()) ::_exit(2);
    std::string logged;
    aio::set_log_sink([&](aio::LogLevel level, std::string_view message) {
      if (level == aio::LogLevel::debug) logged += std::string(message) + "\n";
    });
    ::unsetenv("AIO_BACKEND");
    const bool fell_back = aio::run(which()) == aio::Backend::epoll;
    const bool said_so = logged.find("io_uring backend unavailable") != std::string::npos &&
                         logged.find("using epoll") != std::string::npos;
    ::_exit(fell_back && said_so ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 2) GTEST_SKIP() << "seccomp is not available here";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "automatic did not fall back to epoll with a debug line";
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
