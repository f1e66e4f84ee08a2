// ProcessPoolExecutor: forked workers, bytes over sockets, BrokenProcessPool, no zombies.
#include <aio/testing.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

using namespace std::chrono_literals;

namespace {

long sum_of_squares(long n) {
  long s = 0;
  for (long i = 0; i < n; ++i) s += i * i;
  return s;
}

int my_pid() { return static_cast<int>(::getpid()); }

std::string join(std::vector<std::string> parts, std::string sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

std::vector<std::pair<int, double>> halves(std::vector<int> xs) {
  std::vector<std::pair<int, double>> out;
  for (int x : xs) out.emplace_back(x, x / 2.0);
  return out;
}

struct Point {
  int x;
  int y;
};
Point swap_point(Point p) { return {p.y, p.x}; }

int throws_in_worker(int) { throw std::invalid_argument("negative"); }
int crashes(int) { std::abort(); }
int killed(int) {
  ::kill(::getpid(), SIGKILL);
  return 0;
}
int exits(int) { std::_Exit(3); }
void nothing() {}

/// True when `pid` is gone entirely (reaped, not a zombie).
bool reaped(pid_t pid) { return ::kill(pid, 0) < 0 && errno == ESRCH; }

}  // namespace

AIO_TEST(exec_ProcessPool, RunsInAnotherProcess) {
  aio::ProcessPoolExecutor pool(2);
  EXPECT_EQ(co_await pool.submit(sum_of_squares, 10L), 285);
  int pid = co_await pool.submit(my_pid);
  EXPECT_NE(pid, static_cast<int>(::getpid()));
  EXPECT_EQ(pool.worker_pids().size(), 1u);  // started on demand
  co_await pool.submit(nothing);
}

AIO_TEST(exec_ProcessPool, StringsVectorsPairsAndPlainStructsCross) {
  aio::ProcessPoolExecutor pool(1);
  // (named vectors: g++-12 cannot keep an initializer_list temporary across co_await)
  std::vector<std::string> words{"a", "b", "c"};
  EXPECT_EQ(co_await pool.submit(join, words, std::string("-")), "a-b-c");
  std::vector<int> xs{2, 5};
  auto h = co_await pool.submit(halves, xs);
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h[1].first, 5);
  EXPECT_DOUBLE_EQ(h[1].second, 2.5);
  Point p = co_await pool.submit(swap_point, Point{1, 2});
  EXPECT_EQ(p.x, 2);
  EXPECT_EQ(p.y, 1);
  auto lambda = [](int a, int b) { return a * b; };  // no captures: allowed
  EXPECT_EQ(co_await pool.submit(lambda, 6, 7), 42);
}

AIO_TEST(exec_ProcessPool, ExceptionComesBackAsRuntimeErrorWithItsWhat) {
  aio::ProcessPoolExecutor pool(1);
  try {
    co_await pool.submit(throws_in_worker, 1);
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "negative");
  }
  EXPECT_EQ(co_await pool.submit(sum_of_squares, 3L), 5);  // the worker lives on
}

AIO_TEST(exec_ProcessPool, MapInInputOrder) {
  aio::ProcessPoolExecutor pool(2);
  std::vector<long> numbers;
  for (long i = 0; i < 20; ++i) numbers.push_back(1000 + i);
  auto sums = co_await pool.map(sum_of_squares, numbers);
  bool ok = sums.size() == numbers.size();
  for (std::size_t i = 0; ok && i < numbers.size(); ++i) ok = sums[i] == sum_of_squares(numbers[i]);
  EXPECT_TRUE(ok);
  EXPECT_LE(pool.worker_pids().size(), 2u);
}

AIO_TEST(exec_ProcessPool, CrashedWorkerFailsItsJobAndThePoolRecovers) {
  aio::ProcessPoolExecutor pool(1);
  co_await pool.submit(nothing);
  auto pids = pool.worker_pids();
  EXPECT_EQ(pids.size(), 1u);
  for (auto fn : {crashes, killed, exits}) {
    try {
      co_await pool.submit(fn, 0);
      ADD_FAILURE() << "no exception";
    } catch (const aio::BrokenProcessPool& e) {
      EXPECT_NE(std::string(e.what()).find("terminated abruptly"), std::string::npos);
    }
    for (pid_t p : pids) EXPECT_TRUE(reaped(p)) << "worker " << p << " left a zombie";
    EXPECT_EQ(co_await pool.submit(sum_of_squares, 4L), 14);  // a new worker took over
    pids = pool.worker_pids();
  }
  static_assert(std::is_base_of_v<aio::BrokenExecutor, aio::BrokenProcessPool>);
  static_assert(std::is_base_of_v<std::runtime_error, aio::BrokenExecutor>);
}

AIO_TEST(exec_ProcessPool, OtherJobsSurviveAWorkerKilledFromOutside) {
  aio::ProcessPoolExecutor pool(2);
  auto slow = pool.submit(sum_of_squares, 1L);
  co_await slow;
  auto victim_job = pool.submit([](int ms) {
    ::usleep(static_cast<useconds_t>(ms) * 1000);
    return 1;
  }, 5000);
  auto other = pool.submit(sum_of_squares, 100L);
  EXPECT_EQ(co_await other, 328350);
  // Kill every worker: the sleeping one fails its job, the pool forks new ones.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (pool.worker_pids().size() < 2 && std::chrono::steady_clock::now() < deadline) co_await aio::sleep(0.001);
  auto victims = pool.worker_pids();
  for (pid_t p : victims) ::kill(p, SIGKILL);
  EXPECT_THROW(co_await victim_job, aio::BrokenProcessPool);
  // The idle one is buried when the pool notices (or when it would hand it a job).
  while (std::chrono::steady_clock::now() < deadline) {
    bool gone = true;
    for (pid_t p : victims) gone = gone && reaped(p);
    if (gone) break;
    co_await aio::sleep(0.001);
  }
  for (pid_t p : victims) EXPECT_TRUE(reaped(p)) << p;
  EXPECT_EQ(co_await pool.submit(sum_of_squares, 2L), 1);
}

AIO_TEST(exec_ProcessPool, SubmitAfterShutdownThrows) {
  aio::ProcessPoolExecutor pool(1);
  EXPECT_EQ(co_await pool.submit(sum_of_squares, 2L), 1);
  pool.shutdown();
  EXPECT_TRUE(pool.worker_pids().empty());
  EXPECT_THROW(pool.submit(sum_of_squares, 2L), std::runtime_error);
  pool.shutdown();
}

AIO_TEST(exec_ProcessPool, ShutdownCancelFutures) {
  aio::ProcessPoolExecutor pool(1);
  auto busy = pool.submit([](int ms) {
    ::usleep(static_cast<useconds_t>(ms) * 1000);
    return ms;
  }, 50);
  while (pool.queued() != 0) co_await aio::sleep(0.001);  // busy is in the worker
  std::vector<aio::Future<long>> queued;
  for (int i = 0; i < 3; ++i) queued.push_back(pool.submit(sum_of_squares, 5L));
  pool.shutdown(false, true);
  int cancelled = 0;
  for (auto& f : queued) {
    try {
      co_await f;
    } catch (const aio::CancelledError&) {
      ++cancelled;
    }
  }
  EXPECT_EQ(cancelled, 3);
  EXPECT_EQ(co_await busy, 50);
}

TEST(exec_ProcessPool, NoZombiesAfterDestruction) {
  std::vector<pid_t> pids;
  aio::run([](std::vector<pid_t>& pids) -> aio::Task<> {
    aio::ProcessPoolExecutor pool(3);
    std::vector<long> xs(9, 2000);
    co_await pool.map(sum_of_squares, xs);
    pids = pool.worker_pids();
  }(pids));
  EXPECT_FALSE(pids.empty());
  for (pid_t p : pids) EXPECT_TRUE(reaped(p)) << p;
  int status;
  EXPECT_EQ(::waitpid(-1, &status, WNOHANG), -1);  // no child left at all
  EXPECT_EQ(errno, ECHILD);
}

TEST(exec_ProcessPool, UnusedPoolStartsNothing) {
  aio::ProcessPoolExecutor pool;
  EXPECT_EQ(pool.max_workers(), std::max(1u, std::thread::hardware_concurrency()));
  EXPECT_TRUE(pool.worker_pids().empty());
}

TEST(exec_Wire, RoundTrips) {
  std::string bytes;
  std::tuple<int, std::string, std::vector<std::vector<char>>, std::pair<double, bool>> v{
      -3, std::string("x\0y", 3), {{'a'}, {}, {'b', 'c'}}, {1.5, true}};
  aio::wire::put(bytes, v);
  aio::wire::Reader in(bytes);
  auto back = aio::wire::get<decltype(v)>(in);
  EXPECT_TRUE(in.at_end());
  EXPECT_EQ(back, v);
  aio::wire::Reader short_in(std::string_view(bytes).substr(0, bytes.size() - 1));
  EXPECT_THROW(aio::wire::get<decltype(v)>(short_in), std::runtime_error);
  static_assert(aio::wireable_v<std::vector<std::string>>);
  static_assert(!aio::wireable_v<const char*>);
  static_assert(!aio::wireable_v<std::vector<int*>>);
}
