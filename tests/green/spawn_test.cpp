// aio::green::spawn / await_ / task: plain functions on greenlet stacks as loop tasks (gevent).
#include <aio/green.hpp>
#include <aio/testing.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace {

namespace green = aio::green;
using green::await_;

struct MyError {  // not a std::exception: the type must survive as it is
  int code;
};

aio::Task<int> doubled_later(int x, double delay) {
  co_await aio::sleep(delay);
  co_return x * 2;
}

aio::Task<int> failing_later(double delay) {
  co_await aio::sleep(delay);
  throw MyError{7};
}

// A lazy Task that itself awaits another lazy Task which sleeps.
aio::Task<int> nested_twice(int x) {
  int a = co_await doubled_later(x, 0.5);
  co_await aio::sleep(0.5);
  co_return a + co_await doubled_later(1, 0.25);
}

double now() { return aio::get_running_loop().time(); }

// ---- values --------------------------------------------------------------------------------

AIO_TEST(GreenSpawn, ReturnsValue) {
  auto h = green::spawn([] { return 42; });
  static_assert(std::is_same_v<decltype(h), aio::TaskHandle<int>>);
  EXPECT_EQ(co_await h, 42);
  EXPECT_TRUE(h.done());
  EXPECT_EQ(h.result(), 42);
}

AIO_TEST(GreenSpawn, VoidFunction) {
  int calls = 0;
  auto h = green::spawn([&] {
    ++calls;
    await_(aio::sleep(0.5));
    ++calls;
  });
  static_assert(std::is_same_v<decltype(h), aio::TaskHandle<void>>);
  EXPECT_EQ(calls, 0);  // scheduled, not run: FIFO with everything else
  co_await h;
  EXPECT_EQ(calls, 2);
  EXPECT_TRUE(h.done());
  EXPECT_FALSE(h.cancelled());
}

AIO_TEST(GreenSpawn, MoveOnlyResultAndCapturedState) {
  auto owned = std::make_unique<int>(5);
  auto h = green::spawn([p = std::move(owned)]() mutable {
    await_(aio::sleep(0));
    *p += 1;
    return std::move(p);
  });
  std::unique_ptr<int> r = co_await h;
  EXPECT_EQ(*r, 6);
}

AIO_TEST(GreenSpawn, AwaitsEveryKindOfAwaitable) {
  double t0 = now();
  auto h = green::spawn([] {
    std::vector<std::string> seen;
    await_(aio::sleep(0.25));                                     // void
    seen.push_back(await_(aio::sleep(0.25, std::string("slept"))));  // sleep with a result
    seen.push_back(std::to_string(await_(doubled_later(4, 0.5))));  // a lazy Task
    auto other = aio::create_task(doubled_later(10, 0.5));
    seen.push_back(std::to_string(await_(other)));  // a TaskHandle
    auto fut = aio::get_running_loop().create_future<std::string>();
    aio::get_running_loop().call_later(0.5, [fut] { fut.set_result("future"); });
    seen.push_back(await_(fut));  // a Future
    auto [a, b] = await_(aio::gather(doubled_later(1, 0.5), doubled_later(2, 0.25)));
    seen.push_back(std::to_string(a) + "," + std::to_string(b));  // gather
    seen.push_back(std::to_string(await_(aio::wait_for(doubled_later(3, 0.5), 1.0))));  // wait_for in time
    return seen;
  });
  auto seen = co_await h;
  EXPECT_EQ(seen, (std::vector<std::string>{"slept", "8", "20", "future", "2,4", "6"}));
  EXPECT_NEAR(now() - t0, 3.0, 1e-6);
}

AIO_TEST(GreenSpawn, AwaitOfSomethingAlreadyDoneDoesNotLeaveTheGreenlet) {
  auto done = aio::create_task(doubled_later(2, 0));
  co_await done;
  auto fut = aio::get_running_loop().create_future<int>();
  fut.set_result(9);
  int ticks = 0;
  auto ticker = aio::create_task([](int& t) -> aio::Task<> {
    for (;;) {
      ++t;
      co_await aio::sleep(0);
    }
  }(ticks));
  co_await aio::sleep(0);
  auto h = green::spawn([&] {
    int before = ticks;
    int v = await_(done) + await_(fut);  // await_ready: no trip through the loop
    EXPECT_EQ(ticks, before);
    return v;
  });
  EXPECT_EQ(co_await h, 13);
  ticker.cancel();
}

AIO_TEST(GreenSpawn, NestedLazyTaskThatSleeps) {
  double t0 = now();
  auto h = green::spawn([] { return await_(nested_twice(5)); });
  EXPECT_EQ(co_await h, 12);
  EXPECT_NEAR(now() - t0, 1.25, 1e-6);
}

AIO_TEST(GreenSpawn, AwaitsAnotherGreenTaskAndSpawnsFromInsideOne) {
  auto outer = green::spawn([] {
    auto inner = green::spawn([] {
      await_(aio::sleep(0.5));
      return 20;
    });
    // A lazy green Task awaited from green code: its own greenlet, run as part of this task.
    int nested = await_(green::task([] {
      await_(aio::sleep(0.25));
      return 100;
    }));
    return await_(inner) + nested + 1;
  });
  EXPECT_EQ(co_await outer, 121);
}

AIO_TEST(GreenSpawn, ChildSpawnedInsideOutlivesItsSpawner) {
  // The spawner's greenlet is dead and gone while the child still sleeps: the child's greenlet
  // belongs to the loop's stack, not to the greenlet it was spawned from.
  aio::TaskHandle<int> child;
  auto spawner = green::spawn([&] {
    child = green::spawn([] {
      await_(aio::sleep(1.0));
      return 3;
    });
  });
  co_await spawner;
  spawner = {};
  EXPECT_FALSE(child.done());
  EXPECT_EQ(co_await child, 3);
}

AIO_TEST(GreenSpawn, CurrentTaskInsideIsTheGreenTask) {
  aio::TaskHandle<> seen_first;
  aio::TaskHandle<> seen_after_await;
  bool in_green = false;
  auto h = green::spawn(
      [&] {
        seen_first = aio::current_task();
        await_(aio::sleep(0.1));
        seen_after_await = aio::current_task();
        in_green = green::in_green_task();
      },
      {}, "downloader");
  co_await h;
  EXPECT_EQ(seen_first, aio::TaskHandle<>(h));
  EXPECT_EQ(seen_after_await, aio::TaskHandle<>(h));
  EXPECT_TRUE(in_green);
  EXPECT_EQ(h.get_name(), "downloader");
  EXPECT_FALSE(green::in_green_task());
}

AIO_TEST(GreenSpawn, SmallStack) {
  auto h = green::spawn(
      [] {
        await_(aio::sleep(0));
        return 1;
      },
      {.stack_size = 16 * 1024});
  EXPECT_EQ(co_await h, 1);
}

// ---- exceptions both ways -------------------------------------------------------------------

AIO_TEST(GreenSpawn, ExceptionOfTheAwaitableIsRaisedAtAwait) {
  auto h = green::spawn([] {
    try {
      await_(failing_later(0.5));
    } catch (const MyError& e) {
      return e.code;
    }
    return -1;
  });
  EXPECT_EQ(co_await h, 7);
}

AIO_TEST(GreenSpawn, ExceptionEscapingFnFailsTheTaskWithItsType) {
  auto h = green::spawn([] {
    await_(aio::sleep(0.1));
    throw MyError{3};
  });
  int code = 0;
  try {
    co_await h;
  } catch (const MyError& e) {
    code = e.code;
  }
  EXPECT_EQ(code, 3);
  EXPECT_TRUE(h.done());
  EXPECT_FALSE(h.cancelled());

  auto h2 = green::spawn([]() -> int { throw std::out_of_range("nope"); });
  EXPECT_THROW(co_await h2, std::out_of_range);
  EXPECT_THROW(h2.result(), std::out_of_range);
  EXPECT_EQ(aio::describe(h2.exception()), "std::out_of_range('nope')");
}

AIO_TEST(GreenSpawn, UncaughtAwaitableErrorPassesThroughFn) {
  auto h = green::spawn([] { return await_(failing_later(0.1)); });
  EXPECT_THROW(co_await h, MyError);
}

struct ThrowingSuspend {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<>) { throw std::logic_error("no suspend"); }
  int await_resume() { return 0; }
};

AIO_TEST(GreenSpawn, AwaitSuspendThrowingIsRaisedAtAwait) {
  auto h = green::spawn([] {
    std::string what;
    try {
      await_(ThrowingSuspend{});
    } catch (const std::logic_error& e) {
      what = e.what();
    }
    await_(aio::sleep(0.1));  // still a working green task
    return what;
  });
  EXPECT_EQ(co_await h, "no suspend");
}

// ---- cancellation ---------------------------------------------------------------------------

AIO_TEST(GreenSpawn, CancelWhileInAwaitRaisesCancelledErrorThere) {
  bool caught = false;
  bool after = false;
  double t0 = now();
  auto h = green::spawn([&] {
    try {
      await_(aio::sleep(10));
    } catch (const aio::CancelledError& e) {
      caught = true;
      EXPECT_STREQ(e.what(), "stop");
      throw;
    }
    after = true;
  });
  co_await aio::sleep(1);
  EXPECT_TRUE(h.cancel("stop"));
  EXPECT_THROW(co_await h, aio::CancelledError);
  EXPECT_TRUE(caught);
  EXPECT_FALSE(after);
  EXPECT_TRUE(h.cancelled());
  EXPECT_NEAR(now() - t0, 1.0, 1e-6);
}

AIO_TEST(GreenSpawn, CancelledBeforeItsFirstStepNeverRuns) {
  bool ran = false;
  auto h = green::spawn([&] { ran = true; });
  h.cancel();
  EXPECT_THROW(co_await h, aio::CancelledError);
  EXPECT_FALSE(ran);
  EXPECT_TRUE(h.cancelled());
}

AIO_TEST(GreenSpawn, SwallowedCancellationLetsTheTaskFinish) {
  auto h = green::spawn([] {
    try {
      await_(aio::sleep(10));
    } catch (const aio::CancelledError&) {
      await_(aio::sleep(0.5));  // awaits still work after a cancellation
      return 1;
    }
    return 0;
  });
  co_await aio::sleep(0);
  h.cancel();
  EXPECT_EQ(co_await h, 1);
  EXPECT_FALSE(h.cancelled());
}

AIO_TEST(GreenSpawn, CancelReachesANestedLazyTaskAndAnAwaitedTask) {
  bool child_saw_cancel = false;
  auto child = [](bool& saw) -> aio::Task<> {
    try {
      co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
      saw = true;
      throw;
    }
  };
  auto h = green::spawn([&] { await_(child(child_saw_cancel)); });
  co_await aio::sleep(1);
  h.cancel();
  EXPECT_THROW(co_await h, aio::CancelledError);
  EXPECT_TRUE(child_saw_cancel);

  // asyncio: cancelling a task that awaits another task cancels that one too.
  auto inner = aio::create_task(doubled_later(1, 10));
  auto h2 = green::spawn([&] { return await_(inner); });
  co_await aio::sleep(1);
  h2.cancel();
  EXPECT_THROW(co_await h2, aio::CancelledError);
  EXPECT_TRUE(inner.cancelled());
}

AIO_TEST(GreenSpawn, AwaitInsideACatchHandlerThenRethrow) {
  // Unlike a coroutine, a green task may await inside a catch handler. The exception being
  // handled belongs to the greenlet: meanwhile another green task throws and handles its own (also
  // awaiting in its handler), and `throw;` still rethrows the right one.
  auto noisy = green::spawn([] {
    for (int i = 0; i < 5; ++i) {
      try {
        throw std::runtime_error("noise");
      } catch (const std::runtime_error& e) {
        await_(aio::sleep(0.1));
        EXPECT_STREQ(e.what(), "noise");
        EXPECT_TRUE(std::current_exception() != nullptr);
      }
    }
  });
  bool cleaned_up = false;
  auto h = green::spawn([&] {
    try {
      await_(aio::sleep(10));
    } catch (const aio::CancelledError&) {
      await_(aio::sleep(0.3));  // async cleanup
      cleaned_up = true;
      throw;
    }
  });
  co_await aio::sleep(0.05);
  h.cancel("bye");
  try {
    co_await h;
    ADD_FAILURE() << "no CancelledError";
  } catch (const aio::CancelledError& e) {
    EXPECT_STREQ(e.what(), "bye");
  }
  EXPECT_TRUE(cleaned_up);
  EXPECT_TRUE(h.cancelled());
  co_await noisy;
}

AIO_TEST(GreenSpawn, SelfCancelRaisesAtTheNextAwait) {
  auto h = green::spawn([] {
    aio::current_task().cancel();
    await_(aio::sleep(0));
    return 1;
  });
  EXPECT_THROW(co_await h, aio::CancelledError);
}

// ---- timeouts -------------------------------------------------------------------------------

AIO_TEST(GreenSpawn, WaitForInsideTheGreenletRaisesTimeoutError) {
  double t0 = now();
  auto h = green::spawn([&] {
    bool timed_out = false;
    try {
      await_(aio::wait_for(aio::sleep(10), 1.0));
    } catch (const aio::TimeoutError&) {
      timed_out = true;
    }
    EXPECT_NEAR(now() - t0, 1.0, 1e-6);
    EXPECT_EQ(aio::current_task().cancelling(), 0);  // the deadline's cancel was taken back
    EXPECT_THROW(await_(aio::wait_for(doubled_later(1, 5), 0.5)), aio::TimeoutError);
    await_(aio::sleep(0.5));  // the task goes on normally
    return timed_out;
  });
  EXPECT_TRUE(co_await h);
  EXPECT_NEAR(now() - t0, 2.0, 1e-6);
}

AIO_TEST(GreenSpawn, TimeoutScopeAroundSeveralAwaits) {
  double t0 = now();
  auto h = green::spawn([] {
    int steps = 0;
    try {
      green::with(aio::timeout(1.0), [&](aio::Timeout&) {
        for (;;) {
          await_(aio::sleep(0.3));
          ++steps;
        }
      });
    } catch (const aio::TimeoutError&) {
      return steps;
    }
    return -1;
  });
  EXPECT_EQ(co_await h, 3);
  EXPECT_NEAR(now() - t0, 1.0, 1e-6);

  // A scope that ends in time gives the body's value.
  auto ok = green::spawn([] {
    return green::with(aio::timeout(1.0), [](aio::Timeout&) { return await_(doubled_later(4, 0.5)); });
  });
  EXPECT_EQ(co_await ok, 8);
}

AIO_TEST(GreenSpawn, WaitForAroundAGreenTaskCancelsIt) {
  bool saw_cancel = false;
  auto h = green::spawn([&] {
    try {
      await_(aio::sleep(10));
    } catch (const aio::CancelledError&) {
      saw_cancel = true;
      throw;
    }
  });
  EXPECT_THROW(co_await aio::wait_for(h, 1.0), aio::TimeoutError);
  EXPECT_TRUE(saw_cancel);
  EXPECT_TRUE(h.cancelled());
}

// ---- concurrency ----------------------------------------------------------------------------

AIO_TEST(GreenSpawn, HundredSleepersFinishInOneSecond) {
  double t0 = now();
  std::vector<aio::TaskHandle<int>> tasks;
  for (int i = 0; i < 100; ++i)
    tasks.push_back(green::spawn([i] {
      await_(aio::sleep(1.0));
      return i;
    }));
  auto results = co_await aio::gather(std::move(tasks));
  EXPECT_NEAR(now() - t0, 1.0, 1e-6);
  EXPECT_EQ(results.size(), 100u);
  for (int i = 0; i < 100 && i < int(results.size()); ++i) EXPECT_EQ(results[i], i);
}

AIO_TEST(GreenSpawn, InterleavingIsDeterministic) {
  std::vector<std::pair<int, int>> log;
  std::vector<aio::TaskHandle<>> tasks;
  for (int id = 0; id < 3; ++id)
    tasks.push_back(green::spawn([id, &log] {
      for (int step = 0; step < 3; ++step) {
        log.emplace_back(id, step);
        await_(aio::sleep(0));
      }
    }));
  // A coroutine task in the same loop takes its turns in FIFO order with the green ones.
  tasks.push_back(aio::create_task([](auto& out) -> aio::Task<> {
    for (int step = 0; step < 3; ++step) {
      out.emplace_back(9, step);
      co_await aio::sleep(0);
    }
  }(log)));
  co_await aio::gather(std::move(tasks));
  std::vector<std::pair<int, int>> expected;
  for (int step = 0; step < 3; ++step)
    for (int id : {0, 1, 2, 9}) expected.emplace_back(id, step);
  EXPECT_EQ(log, expected);
}

AIO_TEST(GreenSpawn, TimersWakeGreenTasksInDeadlineOrder) {
  std::vector<int> order;
  std::vector<aio::TaskHandle<>> tasks;
  for (int i : {3, 1, 4, 5, 2})
    tasks.push_back(green::spawn([i, &order] {
      await_(aio::sleep(0.1 * i));
      order.push_back(i);
    }));
  co_await aio::gather(std::move(tasks));
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4, 5}));
}

// ---- lazy form and misuse -------------------------------------------------------------------

AIO_TEST(GreenTask, AwaitedInlineRunsAsPartOfTheAwaitingTask) {
  auto me = aio::current_task();
  aio::TaskHandle<> inside;
  int v = co_await green::task([&] {
    inside = aio::current_task();
    return await_(doubled_later(3, 0.5));
  });
  EXPECT_EQ(v, 6);
  EXPECT_EQ(inside, me);
}

TEST(GreenTask, RunsAsTheMainTaskOfRun) {
  int v = aio::testing::run(green::task([] {
    auto a = green::spawn([] { return await_(doubled_later(1, 1.0)); });
    auto b = green::spawn([] { return await_(doubled_later(2, 1.0)); });
    auto [x, y] = await_(aio::gather(a, b));
    return x + y;
  }));
  EXPECT_EQ(v, 6);
}

TEST(GreenTask, NeverAwaitedNeverRuns) {
  bool ran = false;
  auto guard = std::make_shared<int>(0);
  {
    auto t = green::task([&ran, guard] { ran = true; });
    EXPECT_EQ(guard.use_count(), 2);
  }
  EXPECT_FALSE(ran);
  EXPECT_EQ(guard.use_count(), 1);  // fn was destroyed with the unstarted Task
}

TEST(GreenTask, LeftoverGreenTaskIsCancelledAndUnwoundWhenRunEnds) {
  auto guard = std::make_shared<int>(0);
  bool unwound = false;
  aio::testing::run([](std::shared_ptr<int> g, bool& unwound) -> aio::Task<> {
    green::spawn([g, &unwound] {
      struct OnExit {
        bool& flag;
        ~OnExit() { flag = true; }
      } on_exit{unwound};
      await_(aio::sleep(100));
    });
    co_await aio::sleep(1);
  }(guard, unwound));
  EXPECT_TRUE(unwound);
  EXPECT_EQ(guard.use_count(), 1);
}

TEST(GreenTask, FrameDestroyedWhileSuspendedUnwindsTheGreenlet) {
  // A green task that ignores cancellation outlives loop.close(); dropping its last handle
  // destroys the driver frame, which kills the greenlet (GreenletExit) so its stack unwinds.
  bool unwound = false;
  bool saw_cancel = false;
  aio::TaskHandle<> h;
  {
    aio::EventLoop loop({.virtual_time = true});
    h = loop.create_task(green::task([&] {
      struct OnExit {
        bool& flag;
        ~OnExit() { flag = true; }
      } on_exit{unwound};
      try {
        await_(aio::sleep(100));
      } catch (const aio::CancelledError&) {
        saw_cancel = true;
      }
      await_(aio::sleep(100));  // ignores the cancellation
    }));
    loop.run_until_complete(aio::sleep(1));
    loop.close();
    EXPECT_TRUE(saw_cancel);
    EXPECT_FALSE(h.done());
    EXPECT_FALSE(unwound);
    h = {};
    EXPECT_TRUE(unwound);
  }
}

TEST(GreenAwait, OutsideAGreenTaskThrowsRuntimeError) {
  EXPECT_FALSE(green::in_green_task());
  EXPECT_THROW(await_(aio::sleep(0)), std::runtime_error);  // no loop at all
  aio::testing::run([]() -> aio::Task<> {
    EXPECT_THROW(await_(aio::sleep(0)), std::runtime_error);  // in a coroutine task
    auto h = green::spawn([] {
      // A plain greenlet started from inside a green task is not the task's greenlet.
      bool threw = false;
      green::Greenlet g([&] {
        try {
          await_(aio::sleep(0));
        } catch (const std::runtime_error&) {
          threw = true;
        }
      });
      g.switch_to();
      EXPECT_TRUE(threw);
      await_(aio::sleep(0));
      return threw;
    });
    EXPECT_TRUE(co_await h);
    bool in_callback_threw = false;
    aio::get_running_loop().call_soon([&] {
      try {
        await_(aio::sleep(0));
      } catch (const std::runtime_error&) {
        in_callback_threw = true;
      }
    });
    co_await aio::sleep(0);
    co_await aio::sleep(0);
    EXPECT_TRUE(in_callback_threw);
  }());
}

TEST(GreenSpawnNoLoop, SpawnWithoutARunningLoopThrows) {
  EXPECT_THROW(green::spawn([] {}), std::runtime_error);
}

}  // namespace
