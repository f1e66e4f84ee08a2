// Crossing threads: call_soon_threadsafe from any thread, run_coroutine_threadsafe, wrap_future.
#include <aio/testing.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

/// A loop running forever on its own thread, stopped and joined by the destructor.
class LoopThread {
 public:
  LoopThread() {
    std::promise<aio::EventLoop*> ready;
    auto got = ready.get_future();
    thread_ = std::thread([this, &ready] {
      aio::EventLoop loop;
      aio::set_event_loop(loop);
      loop_ = &loop;
      ready.set_value(&loop);
      loop.run_forever();
      loop.close();
    });
    got.wait();
  }
  ~LoopThread() {
    loop_->call_soon_threadsafe([l = loop_] { l->stop(); });
    thread_.join();
  }
  aio::EventLoop& loop() { return *loop_; }

 private:
  aio::EventLoop* loop_ = nullptr;
  std::thread thread_;
};

aio::Task<int> add_on_loop(int a, int b) {
  co_await aio::sleep(0.001);
  co_return a + b;
}

aio::Task<int> fail_on_loop() {
  co_await aio::sleep(0);
  throw std::domain_error("remote failure");
}

}  // namespace

AIO_TEST(Threadsafe, CallSoonThreadsafeWakesAnIdleLoop) {
  aio::EventLoop& loop = aio::get_running_loop();
  auto fut = loop.create_future<int>();
  std::thread other([&loop, f = &fut] {
    std::this_thread::sleep_for(10ms);
    // Only the callback touches the Future (its count is not atomic), on the loop's thread.
    loop.call_soon_threadsafe([f] { f->set_result(7); });
  });
  EXPECT_EQ(co_await fut, 7);
  other.join();
}

TEST(Threadsafe, CallSoonThreadsafeFromManyThreadsWhileTheLoopIsBusy) {
  constexpr int kThreads = 4, kEach = 500;
  std::vector<std::vector<int>> seen(kThreads);
  aio::run([](std::vector<std::vector<int>>& seen) -> aio::Task<> {
    aio::EventLoop& loop = aio::get_running_loop();
    auto all = loop.create_future<>();
    int remaining = kThreads * kEach;
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          loop.call_soon_threadsafe([&, t, i] {
            seen[t].push_back(i);
            if (--remaining == 0) all.set_result();
          });
        }
      });
    }
    // Busy: a step that blocks for a while, then a few yields.
    auto until = std::chrono::steady_clock::now() + 20ms;
    while (std::chrono::steady_clock::now() < until) {
    }
    for (int i = 0; i < 10; ++i) co_await aio::sleep(0);
    co_await all;
    for (auto& th : threads) th.join();
  }(seen));
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(seen[t].size(), size_t(kEach));
    for (int i = 0; i < kEach; ++i) EXPECT_EQ(seen[t][i], i);  // FIFO per thread
  }
}

TEST(Threadsafe, RunCoroutineThreadsafeReturnsAStdFuture) {
  LoopThread lt;
  std::future<int> f = aio::run_coroutine_threadsafe(add_on_loop(2, 3), lt.loop());
  EXPECT_EQ(f.get(), 5);
  std::vector<std::future<int>> many;
  for (int i = 0; i < 50; ++i) many.push_back(aio::run_coroutine_threadsafe(add_on_loop(i, 1), lt.loop()));
  int sum = 0;
  for (auto& m : many) sum += m.get();
  EXPECT_EQ(sum, 50 * 49 / 2 + 50);
}

TEST(Threadsafe, RunCoroutineThreadsafeCarriesTheException) {
  LoopThread lt;
  auto f = aio::run_coroutine_threadsafe(fail_on_loop(), lt.loop());
  EXPECT_THROW(f.get(), std::domain_error);
  auto v = aio::run_coroutine_threadsafe([]() -> aio::Task<> { co_await aio::sleep(0); }(), lt.loop());
  EXPECT_NO_THROW(v.get());
}

TEST(Threadsafe, RunCoroutineThreadsafeCancelledTask) {
  LoopThread lt;
  auto f = aio::run_coroutine_threadsafe([]() -> aio::Task<int> {
    aio::current_task().cancel();
    co_await aio::sleep(0);
    co_return 1;
  }(), lt.loop());
  EXPECT_THROW(f.get(), aio::CancelledError);
}

TEST(Threadsafe, RunCoroutineThreadsafeOnALoopThatClosesFirst) {
  std::future<int> f;
  {
    aio::EventLoop loop;
    f = aio::run_coroutine_threadsafe(add_on_loop(1, 1), loop);
  }  // closed without running: the task never finishes
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_THROW(f.get(), std::future_error);
}

AIO_TEST(Threadsafe, WrapFutureOfAnotherThread) {
  std::promise<std::string> p;
  auto fut = aio::wrap_future(p.get_future());
  std::thread producer([&p] {
    std::this_thread::sleep_for(5ms);
    p.set_value("made elsewhere");
  });
  EXPECT_EQ(co_await fut, "made elsewhere");
  producer.join();
}

AIO_TEST(Threadsafe, WrapFutureCarriesTheException) {
  auto fut = aio::wrap_future(std::async(std::launch::async, []() -> int { throw std::overflow_error("big"); }));
  try {
    co_await fut;
    ADD_FAILURE() << "no exception";
  } catch (const std::overflow_error& e) {
    EXPECT_STREQ(e.what(), "big");
  }
}

AIO_TEST(Threadsafe, WrapFutureReadyVoidAndShared) {
  std::promise<int> ready;
  ready.set_value(4);
  auto f = aio::wrap_future(ready.get_future());
  EXPECT_TRUE(f.done());  // no thread needed
  EXPECT_EQ(co_await f, 4);
  std::promise<void> pv;
  auto fv = aio::wrap_future(pv.get_future());
  std::thread t([&pv] { pv.set_value(); });
  co_await fv;
  t.join();
  std::promise<int> ps;
  std::shared_future<int> shared = ps.get_future().share();
  auto a = aio::wrap_future(shared);
  auto b = aio::wrap_future(shared);
  ps.set_value(9);
  EXPECT_EQ(co_await a + co_await b, 18);
}

TEST(Threadsafe, HandOffBetweenTwoLoops) {
  LoopThread worker;
  int result = aio::run([](aio::EventLoop& other) -> aio::Task<int> {
    int sum = 0;
    for (int i = 0; i < 20; ++i)
      sum += co_await aio::wrap_future(aio::run_coroutine_threadsafe(add_on_loop(i, 0), other));
    co_return sum;
  }(worker.loop()));
  EXPECT_EQ(result, 190);
}
