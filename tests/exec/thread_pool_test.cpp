// ThreadPoolExecutor: submit, map, shutdown, the bounded queue, exceptions with their type.
// Suites are named exec_* so that the ThreadSanitizer run (-R 'exec|thread|Threadsafe') picks them.
#include <aio/testing.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

/// A gate that pool threads wait on until the test opens it.
class Gate {
 public:
  void open() {
    {
      std::lock_guard lock(m_);
      open_ = true;
    }
    cv_.notify_all();
  }
  void wait() {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return open_; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool open_ = false;
};

struct NotAStdException {
  int code;
};

}  // namespace

AIO_TEST(exec_ThreadPool, SubmitReturnsResult) {
  aio::ThreadPoolExecutor pool(2);
  auto f = pool.submit([](int a, int b) { return a + b; }, 2, 3);
  EXPECT_EQ(co_await f, 5);
}

AIO_TEST(exec_ThreadPool, RunsOnAPoolThread) {
  aio::ThreadPoolExecutor pool(2);
  auto id = co_await pool.submit([] { return std::this_thread::get_id(); });
  EXPECT_NE(id, std::this_thread::get_id());
}

AIO_TEST(exec_ThreadPool, VoidFunction) {
  aio::ThreadPoolExecutor pool(1);
  std::atomic<int> hits{0};
  co_await pool.submit([&hits] { hits.fetch_add(1); });
  EXPECT_EQ(hits.load(), 1);
}

AIO_TEST(exec_ThreadPool, ArgumentsAreCopiedUnlessStdRef) {
  aio::ThreadPoolExecutor pool(1);
  std::string text = "abc";
  auto f = pool.submit([](std::string s) { return s + "!"; }, text);
  text = "changed";
  EXPECT_EQ(co_await f, "abc!");
  int counter = 0;
  co_await pool.submit([](int& c) { c = 42; }, std::ref(counter));
  EXPECT_EQ(counter, 42);
}

AIO_TEST(exec_ThreadPool, MoveOnlyArgumentAndResult) {
  aio::ThreadPoolExecutor pool(1);
  auto p = co_await pool.submit([](std::unique_ptr<int> v) { return std::make_unique<int>(*v * 2); },
                                std::make_unique<int>(21));
  EXPECT_EQ(*p, 42);
}

AIO_TEST(exec_ThreadPool, ExceptionKeepsItsType) {
  aio::ThreadPoolExecutor pool(2);
  try {
    co_await pool.submit([]() -> int { throw std::invalid_argument("bad input"); });
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "bad input");
  }
  try {
    co_await pool.submit([] { throw NotAStdException{7}; });
    ADD_FAILURE() << "no exception";
  } catch (const NotAStdException& e) {
    EXPECT_EQ(e.code, 7);
  }
}

AIO_TEST(exec_ThreadPool, FutureExceptionAndDoneCallback) {
  aio::ThreadPoolExecutor pool(1);
  auto f = pool.submit([]() -> int { throw std::out_of_range("oops"); });
  int calls = 0;
  f.add_done_callback([&calls](aio::Future<int>&) { ++calls; });
  try {
    co_await f;
  } catch (const std::out_of_range&) {
  }
  co_await aio::sleep(0);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(f.done());
  EXPECT_TRUE(f.exception() != nullptr);
}

AIO_TEST(exec_ThreadPool, MapKeepsInputOrder) {
  aio::ThreadPoolExecutor pool(4);
  std::vector<int> items;
  for (int i = 0; i < 200; ++i) items.push_back(i);
  auto squares = co_await pool.map([](int x) { return x * x; }, items);
  EXPECT_EQ(squares.size(), 200u);
  bool ordered = true;
  for (int i = 0; i < 200; ++i) ordered = ordered && squares[i] == i * i;
  EXPECT_TRUE(ordered);
}

AIO_TEST(exec_ThreadPool, MapRethrowsTheFirstErrorInInputOrder) {
  aio::ThreadPoolExecutor pool(4);
  std::vector<int> items{0, 1, 2, 3, 4, 5, 6, 7};
  try {
    co_await pool.map(
        [](int x) {
          if (x == 6) throw std::runtime_error("six");
          if (x == 3) {
            std::this_thread::sleep_for(5ms);  // the later error usually comes first
            throw std::runtime_error("three");
          }
          return x;
        },
        items);
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "three");
  }
}

AIO_TEST(exec_ThreadPool, MapOfVoidGivesMonostate) {
  aio::ThreadPoolExecutor pool(2);
  std::atomic<int> sum{0};
  std::vector<int> items{1, 2, 3};
  std::vector<std::monostate> out = co_await pool.map([&sum](int x) { sum += x; }, items);
  EXPECT_EQ(out.size(), 3u);
  EXPECT_EQ(sum.load(), 6);
}

AIO_TEST(exec_ThreadPool, ThreadsStartOnDemand) {
  aio::ThreadPoolExecutor pool(8);
  EXPECT_EQ(pool.threads(), 0u);
  for (int i = 0; i < 20; ++i) co_await pool.submit([] { return 1; });
  EXPECT_LE(pool.threads(), 2u);  // one at a time: the idle thread is reused
  EXPECT_EQ(pool.max_workers(), 8u);
  aio::ThreadPoolExecutor dflt;
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_EQ(dflt.max_workers(), std::min<std::size_t>(32, cores + 4));
}

AIO_TEST(exec_ThreadPool, SubmitAfterShutdownThrows) {
  aio::ThreadPoolExecutor pool(2);
  EXPECT_EQ(co_await pool.submit([] { return 1; }), 1);
  pool.shutdown();
  EXPECT_THROW(pool.submit([] { return 1; }), std::runtime_error);
  pool.shutdown();  // idempotent
}

AIO_TEST(exec_ThreadPool, ShutdownWaitsForQueuedAndRunningJobs) {
  std::atomic<int> done{0};
  aio::ThreadPoolExecutor pool(2);
  std::vector<aio::Future<void>> futures;
  for (int i = 0; i < 6; ++i) {
    futures.push_back(pool.submit([&done] {
      std::this_thread::sleep_for(5ms);
      done.fetch_add(1);
    }));
  }
  pool.shutdown(true);
  EXPECT_EQ(done.load(), 6);
  for (auto& f : futures) co_await f;  // their outcomes still arrive
}

AIO_TEST(exec_ThreadPool, ShutdownCancelFuturesDropsQueuedJobs) {
  aio::ThreadPoolExecutor pool(1);
  Gate gate;
  std::atomic<int> ran{0};
  std::atomic<bool> started{false};
  auto first = pool.submit([&] {
    started = true;
    gate.wait();
    return 1;
  });
  std::vector<aio::Future<void>> queued;
  for (int i = 0; i < 3; ++i) queued.push_back(pool.submit([&ran] { ran.fetch_add(1); }));
  while (!started) std::this_thread::yield();  // the first job is running
  pool.shutdown(false, true);
  gate.open();
  EXPECT_EQ(co_await first, 1);
  for (auto& f : queued) {
    try {
      co_await f;
      ADD_FAILURE() << "a dropped job completed";
    } catch (const aio::CancelledError&) {
    }
  }
  pool.shutdown(true);
  EXPECT_EQ(ran.load(), 0);
}

AIO_TEST(exec_ThreadPool, CancellingTheFutureSkipsAJobNotStarted) {
  aio::ThreadPoolExecutor pool(1);
  Gate gate;
  std::atomic<bool> ran{false};
  auto blocker = pool.submit([&gate] { gate.wait(); });
  auto skipped = pool.submit([&ran] { ran = true; });
  EXPECT_TRUE(skipped.cancel());
  gate.open();
  co_await blocker;
  pool.shutdown(true);
  EXPECT_FALSE(ran.load());
  EXPECT_TRUE(skipped.cancelled());
}

AIO_TEST(exec_ThreadPool, BoundedQueueBlocksSubmitUntilAThreadTakesAJob) {
  aio::ThreadPoolExecutor pool(1, {.max_queue = 1});
  Gate gate;
  std::atomic<bool> started{false};
  auto running = pool.submit([&] {
    started = true;
    gate.wait();
  });
  while (!started) std::this_thread::yield();  // taken by the thread: the queue is empty again
  auto queued = pool.submit([] {});   // fills the queue
  std::atomic<bool> submitted{false};
  std::thread other([&] {
    aio::EventLoop loop;  // the other thread's Future belongs to its own loop
    aio::set_event_loop(loop);
    auto f = pool.submit([] { return 3; });
    submitted = true;
    EXPECT_EQ(loop.run_until_complete(f), 3);
  });
  std::this_thread::sleep_for(30ms);
  EXPECT_FALSE(submitted.load());  // blocked: the queue is full
  gate.open();
  co_await running;
  co_await queued;
  other.join();
  EXPECT_TRUE(submitted.load());
}

AIO_TEST(exec_ThreadPool, MapWithABoundedQueueNeverBlocksTheLoop) {
  aio::ThreadPoolExecutor pool(2, {.max_queue = 2});
  std::vector<int> items(100, 1);
  auto out = co_await pool.map([](int x) { return x + 1; }, items);
  int sum = 0;
  for (int v : out) sum += v;
  EXPECT_EQ(sum, 200);
}

AIO_TEST(exec_ThreadPool, SpinOffStillWorks) {
  aio::ThreadPoolExecutor pool(2, {.spin = 0us});
  long sum = 0;
  for (int i = 0; i < 100; ++i) sum += co_await pool.submit([i] { return long(i); });
  EXPECT_EQ(sum, 4950);
}

TEST(exec_ThreadPool, ManyLoopsOnManyThreadsShareOnePool) {
  aio::ThreadPoolExecutor pool(4);
  std::vector<std::thread> threads;
  std::vector<long> sums(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&pool, &sums, t] {
      sums[t] = aio::run([](aio::ThreadPoolExecutor& pool, int t) -> aio::Task<long> {
        std::vector<aio::Future<long>> fs;
        for (int i = 0; i < 300; ++i) fs.push_back(pool.submit([t, i] { return long(t * 1000 + i); }));
        long s = 0;
        for (auto& f : fs) s += co_await f;
        for (int i = 0; i < 100; ++i) s += co_await pool.submit([] { return 1L; });
        co_return s;
      }(pool, t));
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(sums[t], t * 1000 * 300 + 299 * 300 / 2 + 100);
}

TEST(exec_ThreadPool, DestructorWaitsForJobs) {
  std::atomic<int> done{0};
  {
    aio::EventLoop loop;
    aio::ThreadPoolExecutor pool(2);
    for (int i = 0; i < 4; ++i) {
      (void)pool.submit([&done] {
        std::this_thread::sleep_for(2ms);
        done.fetch_add(1);
      });
    }
  }
  EXPECT_EQ(done.load(), 4);
}

TEST(exec_ThreadPool, LoopClosedBeforeTheJobFinishes) {
  aio::ThreadPoolExecutor pool(1);
  Gate gate;
  std::atomic<bool> finished{false};
  {
    aio::EventLoop loop;
    aio::set_event_loop(loop);
    auto f = loop.run_until_complete([](aio::ThreadPoolExecutor& pool, Gate& gate, std::atomic<bool>& finished)
                                         -> aio::Task<aio::Future<int>> {
      co_return pool.submit([&] {
        gate.wait();
        finished = true;
        return 5;
      });
    }(pool, gate, finished));
    loop.close();  // the job is still running: its Future is dropped, nothing leaks
    EXPECT_FALSE(f.done());
  }
  gate.open();
  pool.shutdown(true);
  EXPECT_TRUE(finished.load());
}
