// aio::run: the result, exceptions, leftover tasks cancelled and awaited, shutdown hooks,
// SIGINT -> KeyboardInterrupt, run() inside a running loop.
#include <signal.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "helpers.hpp"

using aio_test::value_after;
using Lines = std::vector<std::string>;

namespace {

/// Outlives the main coroutine: leftovers are cancelled after main's frame is gone.
Lines& journal() {
  static Lines lines;
  return lines;
}

aio::Task<> leftover(std::string name) {
  try {
    co_await aio::sleep(1e6);
  } catch (const aio::CancelledError&) {
    journal().push_back(name + " cancelled");
  }
  co_await aio::sleep(1);  // may still await while being shut down
  journal().push_back(name + " finished cleanup");
  throw aio::CancelledError();
}

}  // namespace

TEST(Run, ReturnsTheValue) {
  EXPECT_EQ(aio::run(value_after(0, 5)), 5);
  EXPECT_EQ(aio::run(value_after(0.001, 6)), 6);  // real clock: 1 ms
  EXPECT_EQ(aio::testing::run(value_after(100, 7)), 7);
  auto text = []() -> aio::Task<std::string> { co_return "x"; };
  EXPECT_EQ(aio::run(text()), "x");
  aio::run([]() -> aio::Task<> { co_return; }());
}

TEST(Run, EveryBackendGivesTheSameResults) {
  for (auto backend : {aio::Backend::epoll, aio::Backend::io_uring, aio::Backend::automatic}) {
    auto program = []() -> aio::Task<std::string> {
      std::string order;
      auto a = aio::create_task([](std::string* o) -> aio::Task<> {
        co_await aio::sleep(0.002);
        *o += "a";
      }(&order));
      auto b = aio::create_task([](std::string* o) -> aio::Task<> {
        co_await aio::sleep(0.001);
        *o += "b";
      }(&order));
      co_await aio::gather(a, b);
      co_return order;
    };
    EXPECT_EQ(aio::run(program(), {.backend = backend}), "ba");
  }
}

TEST(Run, RethrowsWithTheOwnType) {
  auto failing = []() -> aio::Task<int> {
    co_await aio::sleep(0);
    throw std::out_of_range("main failed");
  };
  EXPECT_THROW(aio::run(failing()), std::out_of_range);
  auto cancelled = []() -> aio::Task<> {
    aio::current_task().cancel();
    co_await aio::sleep(0);
  };
  EXPECT_THROW(aio::run(cancelled()), aio::CancelledError);
}

TEST(Run, NoLoopRunsAfterwards) {
  aio::EventLoop* seen = nullptr;
  aio::run([](aio::EventLoop** s) -> aio::Task<> {
    *s = &aio::get_running_loop();
    co_return;
  }(&seen));
  EXPECT_NE(seen, nullptr);
  EXPECT_THROW(aio::get_running_loop(), std::runtime_error);
}

TEST(Run, ResetsTheThreadsEventLoop) {
  // asyncio.Runner.close() calls set_event_loop(None): neither run()'s closed loop nor the
  // loop set before is the thread's loop afterwards.
  aio_test::on_fresh_thread([] {
    auto& before = aio::get_event_loop();
    EXPECT_EQ(aio::run(value_after(0, 1)), 1);
    auto& after = aio::get_event_loop();
    EXPECT_TRUE(&after != &before);
    EXPECT_FALSE(after.is_closed());
    before.close();
    after.close();
  });
}

TEST(Run, LeftoverTasksAreCancelledAndAwaited) {
  journal().clear();
  aio::testing::run([]() -> aio::Task<> {
    aio::create_task(leftover("a"));
    aio::create_task(leftover("b"));
    co_await aio::sleep(1);
    journal().push_back("main returns");
  }());
  EXPECT_EQ(journal(), (Lines{"main returns", "a cancelled", "b cancelled", "a finished cleanup",
                              "b finished cleanup"}));
}

TEST(Run, LeftoverFailingOnShutdownIsReported) {
  aio_test::LogCapture log;
  aio::testing::run([]() -> aio::Task<> {
    aio::create_task([]() -> aio::Task<> {
      try {
        co_await aio::sleep(1e6);
      } catch (const aio::CancelledError&) {
      }
      throw std::runtime_error("failed while shutting down");
    }());
    co_await aio::sleep(0);
  }());
  ASSERT_EQ(log.lines.size(), 1u);
  EXPECT_EQ(log.lines[0],
            "unhandled exception during aio.run() shutdown\n"
            "future: <Task finished name='Task-2' exception=std::runtime_error('failed while shutting down')>");
}

TEST(Run, ShutdownHooksRun) {
  bool ran = false;
  aio::testing::run([](bool* r) -> aio::Task<> {
    aio::get_running_loop().add_shutdown_hook([r] { *r = true; });
    EXPECT_FALSE(*r);
    co_return;
  }(&ran));
  EXPECT_TRUE(ran);
}

TEST(Run, DebugOption) {
  aio::testing::run([]() -> aio::Task<> {
    EXPECT_TRUE(aio::get_running_loop().get_debug());
    co_return;
  }(), {.debug = true});
  aio::testing::run([]() -> aio::Task<> {
    EXPECT_FALSE(aio::get_running_loop().get_debug());
    co_return;
  }());
}

TEST(Run, SigintBecomesKeyboardInterrupt) {
  journal().clear();
  EXPECT_THROW(aio::run([]() -> aio::Task<> {
                 ::raise(SIGINT);
                 try {
                   co_await aio::sleep(10);
                   journal().push_back("slept");
                 } catch (const aio::CancelledError&) {
                   journal().push_back("main cancelled");
                   throw;
                 }
               }()),
               aio::KeyboardInterrupt);
  EXPECT_EQ(journal(), Lines{"main cancelled"});
  struct sigaction current {};
  ::sigaction(SIGINT, nullptr, &current);
  EXPECT_TRUE(current.sa_handler == SIG_DFL);  // restored
}

TEST(Run, SigintSwallowedByMainIsNotAnError) {
  int v = aio::testing::run([]() -> aio::Task<int> {
    ::raise(SIGINT);
    try {
      co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
      co_return 1;  // asyncio raises KeyboardInterrupt only when main ends cancelled
    }
    co_return 0;
  }());
  EXPECT_EQ(v, 1);
}

TEST(Run, SigintCancelsTheLeftoversToo) {
  journal().clear();
  EXPECT_THROW(aio::testing::run([]() -> aio::Task<> {
                 aio::create_task(leftover("child"));
                 co_await aio::sleep(1);
                 ::raise(SIGINT);
                 co_await aio::sleep(10);
               }()),
               aio::KeyboardInterrupt);
  EXPECT_EQ(journal(), (Lines{"child cancelled", "child finished cleanup"}));
}

AIO_TEST(Run, InsideARunningLoopIsAnError) {
  auto& loop = aio::get_running_loop();
  EXPECT_THROW(aio::run(value_after(0, 1)), std::runtime_error);
  EXPECT_TRUE(&aio::get_running_loop() == &loop);  // untouched
  EXPECT_EQ(co_await value_after(1, 2), 2);
}

TEST(Run, OnAnotherThread) {
  int v = 0;
  aio_test::on_fresh_thread([&] { v = aio::run(value_after(0, 8)); });
  EXPECT_EQ(v, 8);
}
