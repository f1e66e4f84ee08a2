// Subprocesses (asyncio.subprocess): real children on both backends, on the real clock.
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <string>
#include <system_error>

#include "net_test_util.hpp"

namespace {

/// No child of this process is a zombie (exited and not reaped).
bool no_zombies() {
  siginfo_t info{};
  int r = ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT);
  if (r != 0) return errno == ECHILD;
  return info.si_pid == 0;
}

/// Waits (on the loop) until the children this test started are gone.
aio::Task<bool> children_gone() {
  for (int i = 0; i < 200; ++i) {
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 && errno == ECHILD) co_return true;
    co_await aio::sleep(0.01);
  }
  co_return false;
}

aio::SubprocessOptions pipes(bool in = true, bool out = true, bool err = true) {
  aio::SubprocessOptions o;
  if (in) o.stdin_ = aio::PIPE;
  if (out) o.stdout_ = aio::PIPE;
  if (err) o.stderr_ = aio::PIPE;
  return o;
}

}  // namespace

NET_REAL_TEST(Subprocess, ExecWithArgs) {
  auto opts = pipes(false, true, false);
  std::vector<std::string> args1{"hello", "world"};
  auto proc = co_await aio::create_subprocess_exec(std::string("echo"), args1, opts);
  EXPECT_GT(proc.pid(), 0);
  EXPECT_FALSE(proc.returncode().has_value() && *proc.returncode() != 0);
  auto [out, err] = co_await proc.communicate();
  EXPECT_EQ(out, "hello world\n");
  EXPECT_EQ(err, "");
  EXPECT_EQ(proc.returncode(), 0);
  EXPECT_TRUE(no_zombies());
}

NET_REAL_TEST(Subprocess, ShellAndExitCode) {
  auto opts = pipes();
  auto proc = co_await aio::create_subprocess_shell(std::string("echo out; echo err >&2; exit 3"), opts);
  auto [out, err] = co_await proc.communicate();
  EXPECT_EQ(out, "out\n");
  EXPECT_EQ(err, "err\n");
  EXPECT_EQ(proc.returncode(), 3);
  EXPECT_EQ(co_await proc.wait(), 3);  // wait() twice
  EXPECT_EQ(co_await proc.wait(), 3);
  EXPECT_TRUE(no_zombies());
}

NET_REAL_TEST(Subprocess, CommunicateWithInput) {
  auto opts = pipes();
  std::vector<std::string> args2{};
  auto proc = co_await aio::create_subprocess_exec(std::string("cat"), args2, opts);
  auto [out, err] = co_await proc.communicate(std::string("some input\nand more"));
  EXPECT_EQ(out, "some input\nand more");
  EXPECT_EQ(err, "");
  EXPECT_EQ(proc.returncode(), 0);
}

NET_REAL_TEST(Subprocess, LargeInputAndOutputWithoutDeadlock) {
  // 1 MiB through cat, in and out at once: would deadlock if stdin were written before reading.
  auto opts = pipes();
  std::vector<std::string> args3{};
  auto proc = co_await aio::create_subprocess_exec(std::string("/bin/cat"), args3, opts);
  std::string input = net_test::pattern(1 << 20, 7);
  auto [out, err] = co_await proc.communicate(input);
  EXPECT_EQ(out.size(), input.size());
  EXPECT_TRUE(out == input);
  EXPECT_EQ(proc.returncode(), 0);
}

NET_REAL_TEST(Subprocess, MebibyteOnStdoutAndStderr) {
  auto opts = pipes(false, true, true);
  auto proc = co_await aio::create_subprocess_shell(std::string("head -c 1048576 /dev/zero | tr '\\0' o & head -c 1048576 /dev/zero | tr '\\0' e >&2; wait"), opts);
  auto [out, err] = co_await proc.communicate();
  EXPECT_EQ(out, std::string(1 << 20, 'o'));
  EXPECT_EQ(err, std::string(1 << 20, 'e'));
  EXPECT_EQ(proc.returncode(), 0);
  EXPECT_TRUE(no_zombies());
}

NET_REAL_TEST(Subprocess, Redirections) {
  {  // DEVNULL everywhere
    aio::SubprocessOptions o;
    o.stdin_ = aio::DEVNULL;
    o.stdout_ = aio::DEVNULL;
    o.stderr_ = aio::DEVNULL;
    auto proc = co_await aio::create_subprocess_shell(std::string("cat; echo lost; echo lost >&2"), o);
    EXPECT_EQ(co_await proc.wait(), 0);
    EXPECT_THROW(proc.stdout_stream(), std::logic_error);
  }
  struct Case {
    int stdout_, stderr_;
    const char* cmd;
    const char* out;
    const char* err;
  };
  const Case cases[] = {
      {aio::PIPE, aio::STDOUT, "echo one; echo two >&2", "one\ntwo\n", ""},  // stderr into the stdout pipe
      {aio::DEVNULL, aio::PIPE, "echo gone; echo kept >&2", "", "kept\n"},
  };
  for (const Case& c : cases) {
    aio::SubprocessOptions o;
    o.stdout_ = c.stdout_;
    o.stderr_ = c.stderr_;
    auto proc = co_await aio::create_subprocess_shell(std::string(c.cmd), o);
    auto [out, err] = co_await proc.communicate();
    EXPECT_EQ(out, c.out) << c.cmd;
    EXPECT_EQ(err, c.err) << c.cmd;
  }
  EXPECT_TRUE(no_zombies());
}

NET_REAL_TEST(Subprocess, StreamsByHand) {
  auto opts = pipes(true, true, false);
  std::vector<std::string> args4{};
  auto proc = co_await aio::create_subprocess_exec(std::string("cat"), args4, opts);
  proc.stdin_stream().write("line one\n");
  co_await proc.stdin_stream().drain();
  EXPECT_EQ(co_await proc.stdout_stream().readline(), "line one\n");
  proc.stdin_stream().write("line two\n");
  proc.stdin_stream().close();
  EXPECT_EQ(co_await proc.stdout_stream().readline(), "line two\n");
  EXPECT_EQ(co_await proc.stdout_stream().read(), "");
  EXPECT_TRUE(proc.stdout_stream().at_eof());
  EXPECT_EQ(co_await proc.wait(), 0);
}

NET_REAL_TEST(Subprocess, WriteEofClosesStdin) {
  // cat exits only when its stdin ends: write_eof() must close the pipe's write end.
  auto opts = pipes(true, true, false);
  std::vector<std::string> no_args{};
  auto proc = co_await aio::create_subprocess_exec(std::string("cat"), no_args, opts);
  aio::StreamWriter& in = proc.stdin_stream();
  EXPECT_TRUE(in.can_write_eof());
  const std::string big = net_test::pattern(1 << 20, 3);  // more than a pipe holds: flushed first
  in.write("first\n");
  in.write(big);
  in.write_eof();
  EXPECT_TRUE(in.is_closing());
  try {
    in.write("late");
    ADD_FAILURE() << "write() after write_eof() did not raise";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "Cannot call write() after write_eof()");
  }
  std::string out = co_await aio::wait_for(proc.stdout_stream().read(), 30.0);
  EXPECT_TRUE(out == "first\n" + big) << out.size();
  EXPECT_EQ(co_await aio::wait_for(proc.wait(), 30.0), 0);
  co_await aio::wait_for(in.wait_closed(), 30.0);
}

NET_REAL_TEST(Subprocess, WritingToAnExitedChildIsBrokenPipe) {
  auto opts = pipes(true, false, false);
  std::vector<std::string> no_args{};
  auto proc = co_await aio::create_subprocess_exec(std::string("true"), no_args, opts);
  EXPECT_EQ(co_await proc.wait(), 0);
  aio::StreamWriter& in = proc.stdin_stream();
  try {
    in.write(std::string(1 << 20, 'x'));  // over the high-water mark: drain() has to wait
    co_await aio::wait_for(in.drain(), 30.0);
    ADD_FAILURE() << "drain() to a pipe nobody reads returned";
  } catch (const aio::BrokenPipeError& e) {
    EXPECT_EQ(e.code().value(), EPIPE);
    EXPECT_STREQ(e.what(), "[Errno 32] Broken pipe");
  }
}

NET_REAL_TEST(Subprocess, WaitDoesNotLoseOutput) {
  auto opts = pipes(false, true, false);
  auto proc = co_await aio::create_subprocess_shell(std::string("echo before exit"), opts);
  EXPECT_EQ(co_await proc.wait(), 0);
  EXPECT_EQ(co_await proc.stdout_stream().read(), "before exit\n");
}

NET_REAL_TEST(Subprocess, KillAndTerminate) {
  std::vector<std::string> args5{"30"};
  auto killed = co_await aio::create_subprocess_exec(std::string("sleep"), args5);
  killed.kill();
  EXPECT_EQ(co_await killed.wait(), -SIGKILL);
  EXPECT_EQ(killed.returncode(), -9);
  std::vector<std::string> args6{"30"};
  auto terminated = co_await aio::create_subprocess_exec(std::string("sleep"), args6);
  terminated.terminate();
  EXPECT_EQ(co_await terminated.wait(), -15);
  std::vector<std::string> args7{"30"};
  auto signalled = co_await aio::create_subprocess_exec(std::string("sleep"), args7);
  signalled.send_signal(SIGUSR1);
  EXPECT_EQ(co_await signalled.wait(), -SIGUSR1);
  EXPECT_TRUE(no_zombies());
}

NET_REAL_TEST(Subprocess, SignalToAnExitedProcess) {
  auto proc = co_await aio::create_subprocess_exec(std::string("true"));
  EXPECT_EQ(co_await proc.wait(), 0);
  // asyncio: once the process is reaped, send_signal raises ProcessLookupError (ESRCH).
  try {
    proc.send_signal(SIGTERM);
    ADD_FAILURE() << "no error";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ESRCH);
  }
  EXPECT_THROW(proc.kill(), std::system_error);
  EXPECT_EQ(proc.returncode(), 0);
}

NET_REAL_TEST(Subprocess, MissingProgram) {
  try {
    std::vector<std::string> args8{"x"};
    auto proc = co_await aio::create_subprocess_exec(std::string("aio-no-such-program-here"), args8);
    ADD_FAILURE() << "spawned pid " << proc.pid();
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENOENT);
    EXPECT_STREQ(e.what(), "[Errno 2] No such file or directory: 'aio-no-such-program-here'");
  }
  try {
    auto proc = co_await aio::create_subprocess_exec(std::string("/nonexistent/dir/prog"));
    ADD_FAILURE() << "spawned pid " << proc.pid();
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENOENT);
  }
  EXPECT_TRUE(no_zombies());
}

NET_REAL_TEST(Subprocess, WaitForTimeoutThenKill) {
  std::vector<std::string> args9{"30"};
  auto proc = co_await aio::create_subprocess_exec(std::string("sleep"), args9);
  EXPECT_THROW(co_await aio::wait_for(proc.wait(), 0.1), aio::TimeoutError);
  EXPECT_FALSE(proc.returncode().has_value());  // the cancelled wait() left it usable
  proc.kill();
  EXPECT_EQ(co_await aio::wait_for(proc.wait(), 5.0), -9);
  EXPECT_TRUE(no_zombies());
}

NET_REAL_TEST(Subprocess, CancelledCommunicateLosesNothing) {
  auto opts = pipes(false, true, false);
  auto proc = co_await aio::create_subprocess_shell(std::string("echo a; sleep 0.3; echo b"), opts);
  EXPECT_THROW(co_await aio::wait_for(proc.communicate(), 0.1), aio::TimeoutError);
  auto [out, err] = co_await proc.communicate();
  EXPECT_EQ(out, "a\nb\n");
  EXPECT_EQ(proc.returncode(), 0);
}

NET_REAL_TEST(Subprocess, DestroyedWhileRunningIsReapedInTheBackground) {
  int pid = 0;
  {
    std::vector<std::string> args10{"0.1"};
    auto proc = co_await aio::create_subprocess_exec(std::string("sleep"), args10);
    pid = proc.pid();
  }  // warns, leaves the child running
  EXPECT_EQ(::kill(pid, 0), 0);  // still there (running)
  EXPECT_TRUE(co_await children_gone());
  EXPECT_TRUE(no_zombies());
}

NET_REAL_TEST(Subprocess, EnvAndCwd) {
  auto opts = pipes(false, true, false);
  opts.cwd = "/tmp";
  opts.env = std::vector<std::string>{"AIO_TEST_VAR=forty-two", "PATH=/usr/bin:/bin"};
  auto proc = co_await aio::create_subprocess_shell(std::string("echo $AIO_TEST_VAR; pwd"), opts);
  auto [out, err] = co_await proc.communicate();
  EXPECT_EQ(out, "forty-two\n/tmp\n");
}

NET_REAL_TEST(Subprocess, ManyConcurrent) {
  std::vector<aio::Task<std::pair<std::string, std::string>>> runs;
  std::vector<aio::Process> procs;
  for (int i = 0; i < 20; ++i) {
    auto opts = pipes(false, true, false);
    std::vector<std::string> args11{std::to_string(i)};
    procs.push_back(co_await aio::create_subprocess_exec(std::string("echo"), args11, opts));
  }
  for (auto& p : procs) runs.push_back(p.communicate());
  auto results = co_await aio::gather(std::move(runs));
  for (int i = 0; i < 20; ++i) EXPECT_EQ(results[static_cast<std::size_t>(i)].first, std::to_string(i) + "\n");
  EXPECT_TRUE(no_zombies());
}

namespace {
aio::Task<aio::Process> spawn_sleep(bool wait_for_exit) {
  std::vector<std::string> args{wait_for_exit ? "0" : "5"};
  auto proc = co_await aio::create_subprocess_exec(std::string("sleep"), args);
  if (wait_for_exit) co_await proc.wait();
  co_return proc;
}
}  // namespace

TEST(Subprocess, OutlivesItsLoop) {
  for (auto backend : {aio::Backend::epoll, aio::Backend::io_uring}) {
    aio::RunOptions options;
    options.backend = backend;
    aio::Process done = aio::run(spawn_sleep(true), options);
    EXPECT_EQ(done.returncode(), 0);
    EXPECT_THROW(done.kill(), std::system_error);
    // Still running when its loop ends: nobody reaps it then; it can still be signalled.
    aio::Process running = aio::run(spawn_sleep(false), options);
    EXPECT_FALSE(running.returncode().has_value());
    int pid = running.pid();
    running.kill();
    running = aio::Process();  // the loop is gone: left as it is (see subprocess.hpp)
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status));
    EXPECT_TRUE(no_zombies());
  }
}
