// Cancellation: CancelledError at the await point, messages, cancel before the first
// step, cancel of a done task, cancelling()/uncancel(), swallowed cancellation, and
// cancellation reaching what the task awaits.
#include <stdexcept>
#include <string>
#include <vector>

#include "helpers.hpp"

using Lines = std::vector<std::string>;

namespace {

aio::Task<int> sleeper(Lines* out, double delay, int v) {
  try {
    co_await aio::sleep(delay);
  } catch (const aio::CancelledError& e) {
    out->push_back(std::string("cancelled: '") + e.what() + "'");
    throw;
  }
  out->push_back("woke");
  co_return v;
}

/// Cancels a task sleeping `delay` once `after` has passed: it ends cancelled, told once.
aio::Task<> cancel_sleeper_after(double delay, double after) {
  Lines out;
  auto t = aio::create_task(sleeper(&out, delay, 1));
  co_await aio::sleep(after);
  EXPECT_TRUE(t.cancel());
  EXPECT_THROW(co_await t, aio::CancelledError);
  EXPECT_EQ(out, Lines{"cancelled: ''"});
}

aio::Task<int> swallow(Lines* out) {
  try {
    co_await aio::sleep(10);
  } catch (const aio::CancelledError&) {
    out->push_back("caught");
    co_return 42;
  }
  co_return 0;
}

aio::Task<int> awaits(aio::TaskHandle<int> inner, Lines* out) {
  try {
    co_return co_await inner;
  } catch (const aio::CancelledError& e) {
    out->push_back(std::string("outer cancelled: '") + e.what() + "'");
    throw;
  }
}

aio::Task<int> inline_child(Lines* out) {
  out->push_back("child sleeps");
  co_await aio::sleep(5);
  out->push_back("child woke");
  co_return 1;
}

aio::Task<int> awaits_inline(Lines* out) {
  int v = co_await inline_child(out);
  out->push_back("parent after child");
  co_return v;
}

}  // namespace

AIO_TEST(Cancel, CancelledErrorAtTheAwaitPoint) {
  Lines out;
  auto t = aio::create_task(sleeper(&out, 10, 1));
  co_await aio::sleep(1);
  EXPECT_EQ(t.cancelling(), 0);
  EXPECT_TRUE(t.cancel());
  EXPECT_EQ(t.cancelling(), 1);
  EXPECT_FALSE(t.done());
  EXPECT_THROW(co_await t, aio::CancelledError);
  EXPECT_TRUE(t.done());
  EXPECT_TRUE(t.cancelled());
  EXPECT_EQ(out, Lines{"cancelled: ''"});
  EXPECT_THROW(t.result(), aio::CancelledError);
  EXPECT_THROW(t.exception(), aio::CancelledError);  // asyncio raises it, it does not return it
}

AIO_TEST(Cancel, MessageReachesTheTaskAndTheAwaiter) {
  Lines out;
  auto t = aio::create_task(sleeper(&out, 10, 1));
  co_await aio::sleep(0);
  t.cancel("stop now");
  try {
    co_await t;
    ADD_FAILURE() << "no CancelledError";
  } catch (const aio::CancelledError& e) {
    EXPECT_STREQ(e.what(), "stop now");
  }
  EXPECT_EQ(out, Lines{"cancelled: 'stop now'"});
}

AIO_TEST(Cancel, CancelledErrorIsNotAStdException) {
  auto t = aio::create_task(sleeper(nullptr, 0, 0));
  t.cancel();
  bool broad_catch = false;
  try {
    co_await t;
  } catch (const std::exception&) {
    broad_catch = true;  // user code catching std::exception must not swallow cancellation
  } catch (const aio::CancelledError&) {
  }
  EXPECT_FALSE(broad_catch);
}

AIO_TEST(Cancel, BeforeTheFirstStepTheBodyNeverRuns) {
  Lines out;
  auto t = aio::create_task([](Lines* o) -> aio::Task<> {
    o->push_back("body ran");
    co_return;
  }(&out));
  EXPECT_TRUE(t.cancel("early"));
  co_await aio::sleep(0);
  EXPECT_TRUE(t.cancelled());
  EXPECT_TRUE(out.empty());
  try {
    t.result();
  } catch (const aio::CancelledError& e) {
    EXPECT_STREQ(e.what(), "early");
  }
}

AIO_TEST(Cancel, DoneTaskReturnsFalse) {
  Lines out;
  auto t = aio::create_task(sleeper(&out, 0, 3));
  EXPECT_EQ(co_await t, 3);
  EXPECT_FALSE(t.cancel());
  EXPECT_EQ(t.cancelling(), 0);
  EXPECT_FALSE(t.cancelled());

  auto c = aio::create_task(sleeper(&out, 10, 3));
  co_await aio::sleep(0);
  EXPECT_TRUE(c.cancel());
  EXPECT_THROW(co_await c, aio::CancelledError);
  EXPECT_FALSE(c.cancel());  // already cancelled
}

AIO_TEST(Cancel, CancellingAndUncancelCount) {
  Lines out;
  auto t = aio::create_task(sleeper(&out, 10, 1));
  co_await aio::sleep(0);
  EXPECT_TRUE(t.cancel());
  EXPECT_TRUE(t.cancel());
  EXPECT_EQ(t.cancelling(), 2);
  EXPECT_EQ(t.uncancel(), 1);
  EXPECT_EQ(t.cancelling(), 1);
  EXPECT_THROW(co_await t, aio::CancelledError);
  EXPECT_EQ(out, Lines{"cancelled: ''"});  // delivered once
}

AIO_TEST(Cancel, UncancelLetsATaskGoOnAfterCatching) {
  Lines out;
  auto t = aio::create_task([](Lines* o) -> aio::Task<int> {
    try {
      co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
      o->push_back("caught, cancelling=" + std::to_string(aio::current_task().cancelling()));
      o->push_back("uncancel -> " + std::to_string(aio::current_task().uncancel()));
    }
    co_await aio::sleep(1);  // no second CancelledError
    o->push_back("finished");
    co_return 5;
  }(&out));
  co_await aio::sleep(0);
  t.cancel();
  EXPECT_EQ(co_await t, 5);
  EXPECT_EQ(out, (Lines{"caught, cancelling=1", "uncancel -> 0", "finished"}));
  EXPECT_EQ(t.uncancel(), 0);  // never below zero
}

AIO_TEST(Cancel, CatchingAndReturningAValueIsNotCancelled) {
  Lines out;
  auto t = aio::create_task(swallow(&out));
  co_await aio::sleep(0);
  t.cancel();
  EXPECT_EQ(co_await t, 42);
  EXPECT_FALSE(t.cancelled());
  EXPECT_EQ(t.cancelling(), 1);  // the request is still counted
  EXPECT_EQ(out, Lines{"caught"});
}

AIO_TEST(Cancel, RaisingAnotherErrorWhileCancelledFailsTheTask) {
  auto t = aio::create_task([]() -> aio::Task<> {
    try {
      co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
      throw std::logic_error("replaced");
    }
  }());
  co_await aio::sleep(0);
  t.cancel();
  EXPECT_THROW(co_await t, std::logic_error);
  EXPECT_FALSE(t.cancelled());
  EXPECT_TRUE(t.done());
}

AIO_TEST(Cancel, CancellingATaskAwaitingAnotherCancelsTheInnerOne) {
  Lines out;
  auto inner = aio::create_task(sleeper(&out, 10, 1), "inner");
  auto outer = aio::create_task(awaits(inner, &out), "outer");
  co_await aio::sleep(0);
  outer.cancel("from main");
  EXPECT_THROW(co_await outer, aio::CancelledError);
  EXPECT_TRUE(inner.cancelled());
  EXPECT_TRUE(outer.cancelled());
  EXPECT_EQ(out, (Lines{"cancelled: 'from main'", "outer cancelled: 'from main'"}));
}

AIO_TEST(Cancel, InnerTaskSwallowingCancellationGivesTheOuterItsValue) {
  // asyncio: outer.cancel() is forwarded to the awaited task; when that task swallows it,
  // the outer task just gets the value.
  Lines out;
  auto inner = aio::create_task(swallow(&out));
  auto outer = aio::create_task(awaits(inner, &out));
  co_await aio::sleep(0);
  outer.cancel();
  EXPECT_EQ(co_await outer, 42);
  EXPECT_FALSE(outer.cancelled());
}

AIO_TEST(Cancel, CancellingTheInnerTaskRaisesInTheAwaiter) {
  Lines out;
  auto inner = aio::create_task(sleeper(&out, 10, 1));
  auto outer = aio::create_task(awaits(inner, &out));
  co_await aio::sleep(0);
  inner.cancel("inner only");
  EXPECT_THROW(co_await outer, aio::CancelledError);
  EXPECT_TRUE(outer.cancelled());
  EXPECT_EQ(out, (Lines{"cancelled: 'inner only'", "outer cancelled: 'inner only'"}));
}

AIO_TEST(Cancel, ReachesTheAwaitInsideAnInlineCoroutine) {
  Lines out;
  auto t = aio::create_task(awaits_inline(&out));
  co_await aio::sleep(1);
  t.cancel();
  EXPECT_THROW(co_await t, aio::CancelledError);
  EXPECT_EQ(out, Lines{"child sleeps"});
}

AIO_TEST(Cancel, CancelsAnAwaitedFuture) {
  auto f = aio::get_running_loop().create_future<int>();
  auto t = aio::create_task([](aio::Future<int> fut) -> aio::Task<int> { co_return co_await fut; }(f));
  co_await aio::sleep(0);
  t.cancel("bye");
  EXPECT_THROW(co_await t, aio::CancelledError);
  EXPECT_TRUE(f.cancelled());
}

AIO_TEST(Cancel, TaskReadyToRunIsStillCancelled) {
  // The awaited future is done and the task is queued to resume: cancel() still lands.
  auto f = aio::get_running_loop().create_future<int>();
  Lines out;
  auto t = aio::create_task([](aio::Future<int> fut, Lines* o) -> aio::Task<> {
    try {
      co_await fut;
      o->push_back("resumed");
    } catch (const aio::CancelledError&) {
      o->push_back("cancelled");
      throw;
    }
  }(f, &out));
  co_await aio::sleep(0);
  f.set_result(1);
  EXPECT_TRUE(t.cancel());
  EXPECT_THROW(co_await t, aio::CancelledError);
  EXPECT_EQ(out, Lines{"cancelled"});
}

AIO_TEST(Cancel, DuringSleepZero) {
  Lines out;
  auto t = aio::create_task([](Lines* o) -> aio::Task<> {
    o->push_back("start");
    co_await aio::sleep(0);
    o->push_back("not reached");
  }(&out));
  co_await aio::sleep(0);  // t is now suspended in sleep(0) and already queued
  EXPECT_FALSE(t.done());
  t.cancel();
  EXPECT_THROW(co_await t, aio::CancelledError);
  EXPECT_EQ(out, Lines{"start"});
}

AIO_TEST(Cancel, SleepWhoseTimerFiredIsStillCancelledOnce) {
  // t's timer fires in the same iteration as ours: t is queued when cancel() comes, and
  // the cancellation lands without queuing it a second time.
  co_await cancel_sleeper_after(1, 1);
}

AIO_TEST(Cancel, CancelledSleepLeavesNoTimerBehind) {
  co_await cancel_sleeper_after(3600, 1);
  co_await aio::sleep(2);  // the next timer is this one: the hour-long sleep is gone
  EXPECT_EQ(aio::get_running_loop().time(), 3.0);
}

AIO_TEST(Cancel, AKeptSleepAwaiterDoesNotWakeALaterSleep) {
  // The first sleep's awaiter outlives its cancelled await: its timer must not cut the
  // second sleep short.
  Lines out;
  auto t = aio::create_task([](Lines* o) -> aio::Task<> {
    auto first = aio::sleep(5);
    try {
      co_await first;
    } catch (const aio::CancelledError&) {
      o->push_back("cancelled");
    }
    co_await aio::sleep(10);
    o->push_back("woke");
  }(&out));
  co_await aio::sleep(1);
  EXPECT_TRUE(t.cancel());
  co_await t;
  EXPECT_EQ(aio::get_running_loop().time(), 11.0);
  EXPECT_EQ(out, (Lines{"cancelled", "woke"}));
}

AIO_TEST(Cancel, CancelledTaskCanCleanUpWithAwaits) {
  Lines out;
  auto t = aio::create_task([](Lines* o) -> aio::Task<> {
    try {
      co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
      o->push_back("cleaning");
    }
    co_await aio::sleep(1);  // awaiting inside cleanup works (the catch block cannot co_await)
    o->push_back("cleaned");
    throw aio::CancelledError();
  }(&out));
  co_await aio::sleep(0);
  t.cancel();
  EXPECT_THROW(co_await t, aio::CancelledError);
  EXPECT_TRUE(t.cancelled());
  EXPECT_EQ(out, (Lines{"cleaning", "cleaned"}));
}

AIO_TEST(Cancel, SelfCancel) {
  auto t = aio::create_task([]() -> aio::Task<> {
    aio::current_task().cancel();
    co_await aio::sleep(0);  // the request lands at the next await
  }());
  EXPECT_THROW(co_await t, aio::CancelledError);
  EXPECT_TRUE(t.cancelled());
}

AIO_TEST(Cancel, CancelledRightBeforeItsEnd) {
  // asyncio: a cancel() that lands during the task's last step still ends it cancelled
  auto t = aio::create_task([]() -> aio::Task<int> {
    aio::current_task().cancel("at the end");
    co_return 12;
  }());
  try {
    co_await t;
    ADD_FAILURE();
  } catch (const aio::CancelledError& e) {
    EXPECT_STREQ(e.what(), "at the end");
  }
  EXPECT_TRUE(t.cancelled());
  // an exception raised in that last step wins over the cancellation
  auto u = aio::create_task([]() -> aio::Task<int> {
    aio::current_task().cancel();
    throw std::out_of_range("raised");
    co_return 0;
  }());
  EXPECT_THROW(co_await u, std::out_of_range);
  EXPECT_FALSE(u.cancelled());
  // an uncancel() before the end takes it back
  auto v = aio::create_task([]() -> aio::Task<int> {
    aio::current_task().cancel();
    aio::current_task().uncancel();
    co_return 3;
  }());
  EXPECT_EQ(co_await v, 3);
}

AIO_TEST(Cancel, MainTaskCancelledFromAChild) {
  Lines out;
  auto main = aio::current_task();
  auto child = aio::create_task([](aio::TaskHandle<> m) -> aio::Task<> {
    m.cancel();
    co_return;
  }(main));
  try {
    co_await aio::sleep(5);
    out.push_back("slept");
  } catch (const aio::CancelledError&) {
    out.push_back("main cancelled");
  }
  EXPECT_EQ(main.uncancel(), 0);
  co_await child;
  EXPECT_EQ(out, Lines{"main cancelled"});
}
