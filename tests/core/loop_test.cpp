// The event loop: call_soon / call_later / call_at ordering, handles, call_soon_threadsafe,
// time(), the exception handler, debug mode, closing with pending tasks, and the old-style
// API (get_event_loop, run_until_complete, run_forever, close).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "helpers.hpp"

using aio_test::value_after;
using Lines = std::vector<std::string>;

// ---- callbacks -----------------------------------------------------------------

AIO_TEST(Loop, CallSoonIsFifoAndRunsAfterTheCurrentStep) {
  auto& loop = aio::get_running_loop();
  Lines out;
  loop.call_soon([&] { out.push_back("1"); });
  loop.call_soon([&] { out.push_back("2"); });
  loop.call_soon([&] {
    out.push_back("3");
    aio::get_running_loop().call_soon([&] { out.push_back("scheduled by 3"); });
  });
  out.push_back("step goes on");
  co_await aio::sleep(0);
  out.push_back("main");
  co_await aio::sleep(0);
  EXPECT_EQ(out, (Lines{"step goes on", "1", "2", "3", "main", "scheduled by 3"}));
}

AIO_TEST(Loop, CallLaterAndCallAtOrderByTimeThenFifo) {
  auto& loop = aio::get_running_loop();
  Lines out;
  double t0 = loop.time();
  loop.call_later(2, [&] { out.push_back("later 2 a"); });
  loop.call_at(t0 + 1, [&] { out.push_back("at 1"); });
  loop.call_later(std::chrono::seconds(2), [&] { out.push_back("later 2 b"); });
  loop.call_later(0.5, [&] { out.push_back("later 0.5"); });
  loop.call_at(t0 + 2, [&] { out.push_back("at 2"); });
  loop.call_soon([&] { out.push_back("soon"); });
  auto h = loop.call_later(1.5, [&] { out.push_back("cancelled"); });
  h.cancel();
  EXPECT_TRUE(h.cancelled());
  co_await aio::sleep(3);
  EXPECT_EQ(out, (Lines{"soon", "later 0.5", "at 1", "later 2 a", "later 2 b", "at 2"}));
}

AIO_TEST(Loop, CallbackSeesTheLoopTimeOfItsDeadline) {
  auto& loop = aio::get_running_loop();
  double seen = -1;
  auto h = loop.call_later(4, [&] { seen = aio::get_running_loop().time(); });
  EXPECT_EQ(h.when(), loop.time() + 4);
  co_await aio::sleep(5);
  EXPECT_EQ(seen, 4.0);
}

AIO_TEST(Loop, HandleCancel) {
  auto& loop = aio::get_running_loop();
  Lines out;
  auto h = loop.call_soon([&] { out.push_back("cancelled"); });
  loop.call_soon([&] { out.push_back("kept"); });
  EXPECT_FALSE(h.cancelled());
  h.cancel();
  h.cancel();  // twice is fine
  EXPECT_TRUE(h.cancelled());
  co_await aio::sleep(0);
  EXPECT_EQ(out, Lines{"kept"});
  auto t = loop.call_later(1, [&] { out.push_back("timer"); });
  auto copy = t;
  EXPECT_TRUE(copy == t);
  copy.cancel();
  EXPECT_TRUE(t.cancelled());
  co_await aio::sleep(2);
  EXPECT_EQ(out, Lines{"kept"});
  auto ran = loop.call_soon([&] { out.push_back("ran"); });
  co_await aio::sleep(0);
  ran.cancel();  // after it ran: harmless
  EXPECT_EQ(out.back(), "ran");
}

AIO_TEST(Loop, HandleOutlivingItsCallbackAndCallbackOutlivingItsHandle) {
  auto& loop = aio::get_running_loop();
  int n = 0;
  aio::Handle kept = loop.call_soon([&] { ++n; });
  { auto dropped = loop.call_later(1, [&] { ++n; }); }
  co_await aio::sleep(2);
  EXPECT_EQ(n, 2);
  EXPECT_TRUE(kept);
  EXPECT_FALSE(aio::Handle());
}

AIO_TEST(Loop, TimeIsMonotonicAndFollowsTheVirtualClock) {
  auto& loop = aio::get_running_loop();
  double a = loop.time();
  co_await aio::sleep(0);
  double b = loop.time();
  co_await aio::sleep(2.5);
  double c = loop.time();
  EXPECT_LE(a, b);
  EXPECT_EQ(c - b, 2.5);
}

TEST(Loop, RealClockIsMonotonic) {
  auto& loop = aio::new_event_loop();
  double last = loop.time();
  for (int i = 0; i < 1000; ++i) {
    double now = loop.time();
    EXPECT_GE(now, last);
    last = now;
  }
  loop.close();
}

AIO_TEST(Loop, CallSoonThreadsafeWakesAnIdleLoop) {
  auto& loop = aio::get_running_loop();
  auto f = loop.create_future<int>();
  std::atomic<bool> go{false};
  std::thread other([&] {
    while (!go.load()) std::this_thread::yield();
    loop.call_soon_threadsafe([&f] { f.set_result(7); });  // by reference: handles are not thread-safe
  });
  loop.call_soon([&] { go.store(true); });  // the loop then has nothing to do but wait
  EXPECT_EQ(co_await f, 7);
  other.join();
}

AIO_TEST(Loop, CallSoonThreadsafeFromManyThreads) {
  auto& loop = aio::get_running_loop();
  auto f = loop.create_future();
  int count = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i)
        loop.call_soon_threadsafe([&] {  // f by reference: handles are not thread-safe
          if (++count == 400) f.set_result();
        });
    });
  co_await f;
  for (auto& t : threads) t.join();
  EXPECT_EQ(count, 400);
}

// ---- exception handler ---------------------------------------------------------------

AIO_TEST(Loop, ExceptionInACallbackGoesToTheHandlerAndTheLoopGoesOn) {
  auto& loop = aio::get_running_loop();
  std::vector<aio_test::HandlerCall> calls;
  aio_test::capture_exceptions(loop, calls);
  Lines out;
  loop.call_soon([] { throw std::runtime_error("callback error"); });
  loop.call_soon([&] { out.push_back("next"); });
  loop.call_later(1, [] { throw std::out_of_range("timer error"); });
  co_await aio::sleep(2);
  EXPECT_EQ(out, Lines{"next"});
  CO_ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].message, "Exception in callback");
  EXPECT_EQ(calls[0].exception, "std::runtime_error('callback error')");
  EXPECT_EQ(calls[1].exception, "std::out_of_range('timer error')");
  EXPECT_TRUE(loop.get_exception_handler());
}

AIO_TEST(Loop, DefaultExceptionHandlerLogs) {
  aio_test::LogCapture log;
  auto& loop = aio::get_running_loop();
  loop.call_soon([] { throw std::runtime_error("to the log"); });
  co_await aio::sleep(0);
  loop.call_exception_handler({"custom message", nullptr, {}});
  loop.default_exception_handler({"", std::make_exception_ptr(std::logic_error("x")), {}});
  CO_ASSERT_EQ(log.lines.size(), 3u);
  EXPECT_EQ(log.lines[0], "Exception in callback\nexception: std::runtime_error('to the log')");
  EXPECT_EQ(log.levels[0], aio::LogLevel::error);
  EXPECT_EQ(log.lines[1], "custom message");
  EXPECT_EQ(log.lines[2], "Unhandled exception in event loop\nexception: std::logic_error('x')");
}

AIO_TEST(Loop, AThrowingHandlerIsLoggedNotPropagated) {
  aio_test::LogCapture log;
  auto& loop = aio::get_running_loop();
  loop.set_exception_handler([](aio::EventLoop&, const aio::ExceptionContext&) { throw std::runtime_error("oops"); });
  loop.call_soon([] { throw std::runtime_error("first"); });
  co_await aio::sleep(0);
  CO_ASSERT_EQ(log.lines.size(), 1u);
  EXPECT_EQ(log.lines[0], "Unhandled error in exception handler: std::runtime_error('oops')");
}

// ---- debug mode -------------------------------------------------------------------

AIO_TEST(Loop, DebugModeLogsASlowStep) {
  aio_test::LogCapture log;
  auto& loop = aio::get_running_loop();
  EXPECT_FALSE(loop.get_debug());
  loop.set_debug(true);
  EXPECT_TRUE(loop.get_debug());
  loop.slow_callback_duration = 0.01;
  co_await aio::sleep(0);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));  // the mistake: blocking the loop
  co_await aio::sleep(0);
  loop.call_soon([] { std::this_thread::sleep_for(std::chrono::milliseconds(30)); });
  co_await aio::sleep(0);
  loop.set_debug(false);
  // (a loaded machine may make other steps slow too: look for the two that must be there)
  auto logged = [&](const std::string& prefix) {
    for (std::size_t i = 0; i < log.lines.size(); ++i)
      if (log.lines[i].rfind(prefix, 0) == 0 && log.levels[i] == aio::LogLevel::warning &&
          log.lines[i].size() > 8 && log.lines[i].substr(log.lines[i].size() - 8) == " seconds")
        return true;
    return false;
  };
  EXPECT_TRUE(logged("Executing <Task pending name='Task-1'> took ")) << ::testing::PrintToString(log.lines);
  EXPECT_TRUE(logged("Executing <Handle> took ")) << ::testing::PrintToString(log.lines);
}

TEST(Loop, DebugModeFromRunOptions) {
  aio_test::LogCapture log;
  aio::testing::run(
      []() -> aio::Task<> {
        auto& loop = aio::get_running_loop();
        EXPECT_TRUE(loop.get_debug());
        loop.slow_callback_duration = 0.01;
        co_await aio::sleep(0);
        std::this_thread::sleep_for(std::chrono::milliseconds(30));
      }(),
      {.debug = true});
  ASSERT_FALSE(log.lines.empty());
  EXPECT_EQ(log.lines.back().rfind("Executing <Task finished name='Task-1' result=None> took ", 0), 0u)
      << log.lines.back();
}

AIO_TEST(Loop, NoSlowStepLogOutsideDebugMode) {
  aio_test::LogCapture log;
  aio::get_running_loop().slow_callback_duration = 0.001;
  co_await aio::sleep(0);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  co_await aio::sleep(0);
  EXPECT_TRUE(log.lines.empty());
}

// ---- lifetimes and the old-style API ------------------------------------------------

TEST(Loop, CloseWithPendingTasksCancelsThemAndFreesEverything) {
  Lines out;
  auto& loop = aio::new_event_loop();
  auto sleeper = [](Lines* o, std::string name) -> aio::Task<> {
    try {
      co_await aio::sleep(100);
    } catch (const aio::CancelledError&) {
      o->push_back(name + " cancelled");
      throw;
    }
  };
  auto kept = loop.create_task(sleeper(&out, "kept"));
  loop.create_task(sleeper(&out, "dropped"));
  auto f = loop.create_future<int>();
  EXPECT_EQ(loop.run_until_complete(value_after(0.001, 3)), 3);
  auto never_started = loop.create_task(sleeper(&out, "never started"));
  loop.call_later(50, [] {});
  loop.call_soon([] {});
  EXPECT_FALSE(loop.is_closed());
  loop.close();
  EXPECT_TRUE(loop.is_closed());
  EXPECT_TRUE(kept.cancelled());
  EXPECT_TRUE(never_started.cancelled());
  std::sort(out.begin(), out.end());
  EXPECT_EQ(out, (Lines{"dropped cancelled", "kept cancelled"}));
  EXPECT_FALSE(f.done());
  EXPECT_THROW(loop.call_soon([] {}), std::runtime_error);
  EXPECT_THROW(loop.run_until_complete(value_after(0, 1)), std::runtime_error);
  loop.close();  // twice is fine
}

TEST(Loop, CloseInTheMiddleOfEverything) {
  // Tasks suspended in every kind of combinator when the loop closes: all unwound, all freed.
  auto& loop = aio::new_event_loop();
  auto f = loop.create_future<int>();
  auto busy = [](aio::Future<int> fut) -> aio::Task<> {
    aio::TaskGroup tg;
    tg.create_task(value_after(100, 1));
    tg.create_task([](aio::Future<int> x) -> aio::Task<int> { co_return co_await x; }(fut));
    auto shielded = aio::shield(value_after(100, 2));
    std::vector<aio::Future<int>> futs(1, fut);
    co_await aio::gather(aio::wait_for(value_after(100, 3), 50), shielded, aio::wait(futs, {.timeout = 70}));
    co_await tg.join();
  };
  auto a = loop.create_task(busy(f));
  loop.create_task(busy(f));
  loop.create_task([](aio::Future<int> fut) -> aio::Task<> {
    std::vector<aio::Future<int>> futs(1, fut);
    for (auto next : aio::as_completed(futs, {.timeout = 80})) co_await next;
  }(f));
  loop.call_later(0.001, [&loop] { loop.stop(); });
  loop.run_forever();
  loop.close();
  EXPECT_TRUE(a.cancelled());
}

TEST(Loop, OldStyleGetEventLoopAndRunUntilComplete) {
  aio_test::on_fresh_thread([] {
    Lines out;
    auto execute = [](Lines* o, int x) -> aio::Task<int> {
      o->push_back("Number: " + std::to_string(x));
      co_return x;
    };
    auto coroutine = execute(&out, 1);
    out.push_back("After calling execute");
    auto& loop = aio::get_event_loop();
    EXPECT_TRUE(&loop == &aio::get_event_loop());  // one per thread
    EXPECT_FALSE(loop.is_running());
    EXPECT_EQ(loop.run_until_complete(std::move(coroutine)), 1);
    out.push_back("After calling loop");
    EXPECT_EQ(out, (Lines{"After calling execute", "Number: 1", "After calling loop"}));
    loop.close();
  });
}

TEST(Loop, HavingRunDoesNotMakeALoopTheThreadsLoop) {
  // asyncio's run_forever sets only the running loop: afterwards get_event_loop() does not
  // hand out the loop that ran (here closed), and a loop set before stays the thread's loop.
  aio_test::on_fresh_thread([] {
    auto& ran = aio::new_event_loop();
    EXPECT_EQ(ran.run_until_complete(value_after(0, 1)), 1);
    ran.close();
    auto& current = aio::get_event_loop();
    EXPECT_TRUE(&current != &ran);
    EXPECT_FALSE(current.is_closed());
    auto& other = aio::new_event_loop();
    other.run_until_complete(value_after(0, 2));
    EXPECT_TRUE(&aio::get_event_loop() == &current);
    other.close();
    current.close();
  });
}

TEST(Loop, RunUntilCompleteRethrowsAndKeepsTheLoopUsable) {
  auto& loop = aio::new_event_loop();
  auto failing = []() -> aio::Task<int> {
    co_await aio::sleep(0);
    throw std::invalid_argument("no");
  };
  EXPECT_THROW(loop.run_until_complete(failing()), std::invalid_argument);
  auto f = loop.create_future<std::string>();
  loop.call_soon([f] { f.set_result("from a future"); });
  EXPECT_EQ(loop.run_until_complete(f), "from a future");
  auto t = loop.create_task(value_after(0.001, 5));  // real clock: 1 ms
  EXPECT_EQ(loop.run_until_complete(t), 5);
  EXPECT_TRUE(t.done());
  loop.close();
}

TEST(Loop, RunUntilCompleteOfAnyAwaitable) {
  auto& loop = aio::new_event_loop();
  aio::set_event_loop(loop);  // gather() outside a running loop schedules on the thread's loop, as asyncio
  auto [a, b] = loop.run_until_complete(aio::gather(value_after(0.001, 1), value_after(0.002, 2)));
  EXPECT_EQ(a + b, 3);
  loop.run_until_complete(aio::sleep(0.001));
  EXPECT_EQ(loop.run_until_complete(aio::sleep(0, std::string("v"))), "v");
  EXPECT_EQ(loop.run_until_complete(aio::wait_for(value_after(0, 4), 1.0)), 4);
  loop.close();
}

TEST(Loop, RunForeverUntilStop) {
  auto& loop = aio::new_event_loop();
  Lines out;
  loop.call_soon([&] {
    out.push_back("running: " + std::string(loop.is_running() ? "yes" : "no"));
    loop.call_soon([&] {
      out.push_back("stopping");
      loop.stop();
    });
  });
  loop.run_forever();
  EXPECT_FALSE(loop.is_running());
  loop.call_soon([&] { out.push_back("second run"); });
  loop.call_soon([&] { loop.stop(); });
  loop.run_forever();
  EXPECT_EQ(out, (Lines{"running: yes", "stopping", "second run"}));
  loop.close();
}

TEST(Loop, RunUntilCompleteOnALoopThatStopsEarly) {
  auto& loop = aio::new_event_loop();
  auto f = loop.create_future<int>();
  loop.call_soon([&] { loop.stop(); });
  EXPECT_THROW(loop.run_until_complete(f), std::runtime_error);  // "Event loop stopped before Future completed."
  f.cancel();
  loop.close();
}

AIO_TEST(Loop, RunningLoopCannotRunAgainOrClose) {
  auto& loop = aio::get_running_loop();
  EXPECT_TRUE(loop.is_running());
  EXPECT_THROW(loop.run_forever(), std::runtime_error);
  EXPECT_THROW(loop.close(), std::runtime_error);
  auto& other = aio::new_event_loop();
  EXPECT_THROW(other.run_until_complete(value_after(0, 1)), std::runtime_error);  // another loop runs here
  other.close();
  co_return;
}

AIO_TEST(Loop, CreateTaskAndFutureOnTheLoop) {
  auto& loop = aio::get_running_loop();
  auto t = loop.create_task(value_after(1, 4), "via loop");
  EXPECT_EQ(t.get_name(), "via loop");
  auto f = loop.create_future<int>();
  loop.call_soon([f] { f.set_result(1); });
  EXPECT_EQ(co_await t + co_await f, 5);
  EXPECT_TRUE(&aio::get_event_loop() == &loop);  // inside a running loop: that loop
}

AIO_TEST(Loop, EnsureFuturePassesHandlesThrough) {
  auto t = aio::create_task(value_after(1, 1));
  auto same = aio::ensure_future(t);
  EXPECT_TRUE(same == t);
  auto f = aio::get_running_loop().create_future<int>();
  EXPECT_TRUE(aio::ensure_future(f) == f);
  auto scheduled = aio::ensure_future(value_after(1, 2));
  static_assert(std::is_same_v<decltype(scheduled), aio::TaskHandle<int>>);
  f.set_result(3);
  EXPECT_EQ(co_await t + co_await scheduled, 3);
}

TEST(Loop, SleepNaNIsInvalid) { EXPECT_THROW((void)aio::sleep(std::nan("")), std::invalid_argument); }
