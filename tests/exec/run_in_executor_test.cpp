// loop.run_in_executor, the loop's default executor and to_thread.
#include <aio/testing.hpp>

#include <atomic>
#include <memory>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>

using namespace std::chrono_literals;

namespace {

std::string blocking_fetch(std::string url) {
  std::this_thread::sleep_for(2ms);  // stands in for requests.get(url)
  return "<html>" + url + "</html>";
}

long square(long x) { return x * x; }

}  // namespace

AIO_TEST(exec_RunInExecutor, DefaultExecutorIsCreatedOnceAndReused) {
  aio::EventLoop& loop = aio::get_running_loop();
  auto a = co_await loop.run_in_executor(nullptr, [] { return std::this_thread::get_id(); });
  EXPECT_NE(a, std::this_thread::get_id());
  aio::ThreadPoolExecutor& pool = aio::default_executor(loop);
  EXPECT_EQ(&pool, &aio::default_executor(loop));
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_EQ(pool.max_workers(), std::min<std::size_t>(32, cores + 4));
  EXPECT_EQ(co_await loop.run_in_executor(nullptr, blocking_fetch, std::string("a.com")), "<html>a.com</html>");
}

AIO_TEST(exec_RunInExecutor, CustomThreadPool) {
  aio::EventLoop& loop = aio::get_running_loop();
  aio::ThreadPoolExecutor pool(3);
  EXPECT_EQ(co_await loop.run_in_executor(&pool, square, 12L), 144);
  aio::ThreadPoolExecutor* none = nullptr;  // a null executor pointer means the default one
  EXPECT_EQ(co_await loop.run_in_executor(none, square, 3L), 9);
}

AIO_TEST(exec_RunInExecutor, ProcessPool) {
  aio::EventLoop& loop = aio::get_running_loop();
  aio::ProcessPoolExecutor pool(1);
  EXPECT_EQ(co_await loop.run_in_executor(&pool, square, 11L), 121);
}

AIO_TEST(exec_RunInExecutor, FreeFunctionForm) {
  aio::EventLoop& loop = aio::get_running_loop();
  aio::ThreadPoolExecutor pool(1);
  EXPECT_EQ(co_await aio::run_in_executor(loop, nullptr, square, 5L), 25);
  EXPECT_EQ(co_await aio::run_in_executor(loop, &pool, square, 6L), 36);
}

AIO_TEST(exec_RunInExecutor, BlockingCallAndSleepOverlap) {
  // show_perf(c1): the executor job and the sleep run at the same time.
  aio::EventLoop& loop = aio::get_running_loop();
  auto started = std::chrono::steady_clock::now();
  auto [a, b] = co_await aio::gather(loop.run_in_executor(nullptr,
                                                          [] {
                                                            std::this_thread::sleep_for(50ms);
                                                            return std::string("A");
                                                          }),
                                     aio::sleep(0.05, std::string("B")));
  EXPECT_EQ(a, "A");
  EXPECT_EQ(b, "B");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

TEST(exec_RunInExecutor, RunWaitsForTheDefaultExecutor) {
  std::atomic<bool> finished{false};
  aio::run([](std::atomic<bool>& finished) -> aio::Task<> {
    // Started, never awaited: asyncio.run() still waits for it when it shuts the executor down.
    (void)aio::get_running_loop().run_in_executor(nullptr, [&finished] {
      std::this_thread::sleep_for(20ms);
      finished = true;
    });
    co_return;
  }(finished));
  EXPECT_TRUE(finished.load());
}

TEST(exec_RunInExecutor, CloseShutsTheDefaultExecutorDown) {
  aio::EventLoop loop;
  aio::ThreadPoolExecutor* pool = nullptr;
  loop.run_until_complete([](aio::ThreadPoolExecutor*& pool) -> aio::Task<> {
    pool = &aio::default_executor(aio::get_running_loop());
    co_await aio::to_thread([] {});
  }(pool));
  EXPECT_EQ(pool->threads(), 1u);
  loop.close();
  EXPECT_TRUE(loop.is_closed());
}

AIO_TEST(exec_ToThread, ReturnsTheResult) {
  EXPECT_EQ(co_await aio::to_thread(square, 9L), 81);
  auto [x, y] = co_await aio::gather(aio::to_thread(square, 2L), aio::to_thread(blocking_fetch, std::string("b")));
  EXPECT_EQ(x, 4);
  EXPECT_EQ(y, "<html>b</html>");
}

AIO_TEST(exec_ToThread, ExceptionKeepsItsType) {
  try {
    co_await aio::to_thread([]() -> int { throw std::length_error("too long"); });
    ADD_FAILURE() << "no exception";
  } catch (const std::length_error& e) {
    EXPECT_STREQ(e.what(), "too long");
  }
}

AIO_TEST(exec_ToThread, ManyAtOnce) {
  std::vector<aio::Future<long>> calls;
  for (long i = 0; i < 100; ++i) calls.push_back(aio::to_thread(square, i));
  auto results = co_await aio::gather(calls);
  long sum = 0;
  for (long r : results) sum += r;
  EXPECT_EQ(sum, 328350);
}

AIO_TEST(exec_ToThread, TimeoutCancelsTheWaitNotTheThread) {
  // Shared: the thread outlives this frame (run() waits for it when it shuts the executor down).
  auto finished = std::make_shared<std::atomic<bool>>(false);
  auto job = [finished] {
    std::this_thread::sleep_for(30ms);
    *finished = true;
  };
  auto call = aio::to_thread(job);
  try {
    co_await aio::wait_for(call, 0.01);
    ADD_FAILURE() << "no timeout";
  } catch (const aio::TimeoutError&) {
  }
  EXPECT_FALSE(finished->load());
}

AIO_TEST(exec_ToThread, CancelledTaskGetsCancelledError) {
  auto task = aio::create_task([]() -> aio::Task<int> {
    co_return co_await aio::to_thread([] {
      std::this_thread::sleep_for(20ms);
      return 1;
    });
  }());
  co_await aio::sleep(0);
  task.cancel();
  try {
    co_await task;
    ADD_FAILURE() << "not cancelled";
  } catch (const aio::CancelledError&) {
  }
  EXPECT_TRUE(task.cancelled());
}

TEST(exec_ToThread, OutsideALoopThrows) { EXPECT_THROW((void)aio::to_thread([] {}), std::runtime_error); }
