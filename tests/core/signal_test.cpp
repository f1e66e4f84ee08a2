// loop.add_signal_handler / remove_signal_handler: handlers run as loop callbacks, removal
// restores the disposition, invalid and uncatchable signals, SIGINT and aio::run.
#include <signal.h>
#include <unistd.h>

#include <aio/testing.hpp>
#include <atomic>
#include <csignal>
#include <optional>
#include <thread>

namespace {

/// The signal's current handler (SIG_DFL, SIG_IGN or a function).
void (*disposition(int signum))(int) {
  struct sigaction current {};
  ::sigaction(signum, nullptr, &current);
  return current.sa_handler;
}

using aio::testing::error_from;
using aio::testing::error_of;

}  // namespace

TEST(Signal, HandlerRunsAsALoopCallback) {
  aio::run([]() -> aio::Task<> {
    auto& loop = aio::get_running_loop();
    auto fired = loop.create_future<int>();
    bool raise_returned = false;
    bool in_task = true;
    bool saw_loop = false;
    loop.add_signal_handler(SIGUSR1, [&] {
      in_task = static_cast<bool>(aio::current_task());
      saw_loop = &aio::get_running_loop() == &loop;
      if (!fired.done()) fired.set_result(raise_returned ? 1 : 0);
    });
    EXPECT_NE(disposition(SIGUSR1), SIG_DFL);
    ::raise(SIGUSR1);  // the C handler runs now, inside raise(); ours runs later, from the loop
    raise_returned = true;
    EXPECT_EQ(co_await aio::wait_for(fired, 5.0), 1);
    EXPECT_FALSE(in_task);  // a plain callback, not a task
    EXPECT_TRUE(saw_loop);
    EXPECT_TRUE(loop.remove_signal_handler(SIGUSR1));
    EXPECT_EQ(disposition(SIGUSR1), SIG_DFL);
    EXPECT_FALSE(loop.remove_signal_handler(SIGUSR1));
  }());
}

TEST(Signal, SignalFromAnotherThreadWakesTheLoop) {
  aio::run([]() -> aio::Task<> {
    auto& loop = aio::get_running_loop();
    auto fired = loop.create_future<>();
    loop.add_signal_handler(SIGUSR2, [&] {
      if (!fired.done()) fired.set_result();
    });
    std::thread killer([] {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      ::kill(::getpid(), SIGUSR2);
    });
    // The loop is blocked in its poller when the signal comes.
    auto timed_out = co_await error_from<aio::TimeoutError>([&] { return aio::wait_for(fired, 5.0); });
    killer.join();
    EXPECT_FALSE(timed_out.has_value());
    EXPECT_TRUE(loop.remove_signal_handler(SIGUSR2));
  }());
}

TEST(Signal, EveryDeliveryRunsTheHandlerAndTheLastHandlerWins) {
  aio::run([]() -> aio::Task<> {
    auto& loop = aio::get_running_loop();
    int first = 0, second = 0;
    loop.add_signal_handler(SIGUSR1, [&] { ++first; });
    loop.add_signal_handler(SIGUSR1, [&] { ++second; });  // replaces the first
    for (int i = 0; i < 3; ++i) ::raise(SIGUSR1);
    for (int i = 0; i < 200 && second < 3; ++i) co_await aio::sleep(0.005);
    EXPECT_EQ(first, 0);
    EXPECT_EQ(second, 3);
    EXPECT_TRUE(loop.remove_signal_handler(SIGUSR1));
  }());
}

TEST(Signal, HandlerExceptionGoesToTheExceptionHandler) {
  aio::run([]() -> aio::Task<> {
    auto& loop = aio::get_running_loop();
    std::string message;
    loop.set_exception_handler([&](aio::EventLoop&, const aio::ExceptionContext& ctx) { message = ctx.message; });
    loop.add_signal_handler(SIGUSR1, [] { throw std::runtime_error("boom"); });
    ::raise(SIGUSR1);
    for (int i = 0; i < 200 && message.empty(); ++i) co_await aio::sleep(0.005);
    EXPECT_EQ(message, "Exception in callback");
    loop.remove_signal_handler(SIGUSR1);
  }());
}

TEST(Signal, InvalidAndUncatchableSignals) {
  aio::run([]() -> aio::Task<> {
    auto& loop = aio::get_running_loop();
    auto noop = [] {};
    for (int bad : {0, -1, NSIG, 1000, 32, 33}) {
      EXPECT_THROW(loop.add_signal_handler(bad, noop), std::invalid_argument) << bad;
      EXPECT_THROW(loop.remove_signal_handler(bad), std::invalid_argument) << bad;
    }
    try {
      loop.add_signal_handler(SIGKILL, noop);
      ADD_FAILURE() << "SIGKILL accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "sig 9 cannot be caught");
    }
    EXPECT_THROW(loop.add_signal_handler(SIGSTOP, noop), std::runtime_error);
    EXPECT_FALSE(loop.remove_signal_handler(SIGKILL));
    EXPECT_FALSE(loop.remove_signal_handler(SIGSTOP));
    EXPECT_THROW(loop.add_signal_handler(SIGUSR1, nullptr), std::invalid_argument);
    EXPECT_EQ(loop.poller().watched(), 0u);  // nothing stayed registered
    co_return;
  }());
}

TEST(Signal, RemovalStopsWatchingThePipe) {
  aio::run([]() -> aio::Task<> {
    auto& loop = aio::get_running_loop();
    const auto before = loop.poller().watched();
    loop.add_signal_handler(SIGUSR1, [] {});
    loop.add_signal_handler(SIGUSR2, [] {});
    EXPECT_EQ(loop.poller().watched(), before + 1);  // one self-pipe for all signals
    EXPECT_TRUE(loop.remove_signal_handler(SIGUSR1));
    EXPECT_EQ(loop.poller().watched(), before + 1);
    EXPECT_TRUE(loop.remove_signal_handler(SIGUSR2));
    EXPECT_EQ(loop.poller().watched(), before);
    co_return;
  }());
}

TEST(Signal, CloseRestoresDispositions) {
  aio::run([]() -> aio::Task<> {
    aio::get_running_loop().add_signal_handler(SIGUSR1, [] {});
    aio::get_running_loop().add_signal_handler(SIGHUP, [] {});
    co_return;
  }());
  EXPECT_EQ(disposition(SIGUSR1), SIG_DFL);
  EXPECT_EQ(disposition(SIGHUP), SIG_DFL);

  aio::EventLoop loop;
  loop.close();
  EXPECT_THROW(loop.add_signal_handler(SIGUSR1, [] {}), std::runtime_error);
}

TEST(Signal, UserSigintHandlerWinsOverRun) {
  int handled = 0;
  aio::run([](int& handled) -> aio::Task<> {
    auto& loop = aio::get_running_loop();
    auto fired = loop.create_future<>();
    loop.add_signal_handler(SIGINT, [&] {
      ++handled;
      if (!fired.done()) fired.set_result();
    });
    ::raise(SIGINT);  // no KeyboardInterrupt: the handler runs, main goes on
    co_await aio::wait_for(fired, 5.0);
  }(handled));
  EXPECT_EQ(handled, 1);
  EXPECT_EQ(disposition(SIGINT), SIG_DFL);  // run() and close() put SIGINT back
}

TEST(Signal, RemovingTheSigintHandlerGivesItBackToRun) {
  bool reached = false;
  EXPECT_THROW(aio::run([](bool& reached) -> aio::Task<> {
                 auto& loop = aio::get_running_loop();
                 auto run_handler = disposition(SIGINT);
                 EXPECT_NE(run_handler, SIG_DFL);  // run() installed its KeyboardInterrupt handler
                 loop.add_signal_handler(SIGINT, [] {});
                 EXPECT_TRUE(loop.remove_signal_handler(SIGINT));
                 EXPECT_EQ(disposition(SIGINT), run_handler);
                 ::raise(SIGINT);  // run()'s again: main is cancelled, run() raises KeyboardInterrupt
                 co_await aio::sleep(5.0);
                 reached = true;
               }(reached)),
               aio::KeyboardInterrupt);
  EXPECT_FALSE(reached);
  EXPECT_EQ(disposition(SIGINT), SIG_DFL);
}

TEST(Signal, WorksOnAVirtualClockLoop) {
  aio::testing::run([]() -> aio::Task<> {
    auto& loop = aio::get_running_loop();
    auto fired = loop.create_future<int>();
    loop.add_signal_handler(SIGUSR2, [&] { fired.set_result(SIGUSR2); });
    ::raise(SIGUSR2);
    EXPECT_EQ(co_await fired, SIGUSR2);
    loop.remove_signal_handler(SIGUSR2);
  }());
}
