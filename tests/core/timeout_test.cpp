// wait_for, timeout(delay, aw), timeout_at, and the Timeout context manager
// (with(aio::timeout(d), body)): expiry, when/reschedule/expired, nesting, and
// outside cancellation that must stay a CancelledError.
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "helpers.hpp"

using Lines = std::vector<std::string>;

namespace {

aio::Task<int> value_after(double delay, int v) {
  co_await aio::sleep(delay);
  co_return v;
}

/// Sleeps; when cancelled, takes a second to clean up, then re-raises.
aio::Task<int> slow_to_cancel(Lines* out, double delay) {
  try {
    co_await aio::sleep(delay);
    co_return 1;
  } catch (const aio::CancelledError&) {
    out->push_back("cancel seen");
  }
  co_await aio::sleep(1);
  out->push_back("cleanup done");
  throw aio::CancelledError();
}

aio::Task<int> swallow_cancel() {
  try {
    co_await aio::sleep(100);
  } catch (const aio::CancelledError&) {
  }
  co_return 42;
}

/// Awaits `make()` (built inside the co_await: wait_for's awaitable cannot move) and notes
/// the error that ends it, "TimeoutError" or "CancelledError", which goes on.
template <class F>
aio::Task<int> noting_the_error(F make, Lines& out) {
  try {
    co_return co_await make();
  } catch (const aio::TimeoutError&) {
    out.push_back("TimeoutError");
    throw;
  } catch (const aio::CancelledError&) {
    out.push_back("CancelledError");
    throw;
  }
}

/// The inner scope of the nesting tests: sleeps 10 s under `inner` and notes how that
/// ended, "inner TimeoutError" or "inner CancelledError" (which goes on).
aio::Task<> sleep_noting_how_it_ends(aio::Timeout& inner, Lines& out) {
  try {
    co_await aio::with(inner, [](aio::Timeout&) -> aio::Task<> { co_await aio::sleep(10); });
  } catch (const aio::TimeoutError&) {
    out.push_back("inner TimeoutError");
  } catch (const aio::CancelledError&) {
    out.push_back("inner CancelledError");
    throw;
  }
}

double now() { return aio::get_running_loop().time(); }

}  // namespace

// ---- wait_for ------------------------------------------------------------------

AIO_TEST(WaitFor, ValueInTime) {
  EXPECT_EQ(co_await aio::wait_for(value_after(1, 5), 2), 5);
  auto t = aio::create_task(value_after(1, 6));
  EXPECT_EQ(co_await aio::wait_for(t, 2.0), 6);
  EXPECT_EQ(co_await aio::wait_for(value_after(1, 7), std::chrono::seconds(2)), 7);
  EXPECT_EQ(now(), 3.0);
  EXPECT_EQ(aio::current_task().cancelling(), 0);
}

AIO_TEST(WaitFor, TimeoutCancelsTheInnerTaskAndWaitsForIt) {
  Lines out;
  auto inner = aio::create_task(slow_to_cancel(&out, 10));
  double start = now();
  try {
    co_await aio::wait_for(inner, 2);
    ADD_FAILURE() << "no TimeoutError";
  } catch (const aio::TimeoutError&) {
    out.push_back("timeout");
  }
  EXPECT_EQ(now() - start, 3.0);  // 2 s timeout + 1 s of cleanup, awaited
  EXPECT_TRUE(inner.cancelled());
  EXPECT_EQ(out, (Lines{"cancel seen", "cleanup done", "timeout"}));
  EXPECT_EQ(aio::current_task().cancelling(), 0);
}

AIO_TEST(WaitFor, TimeoutOfALazyTask) {
  Lines out;
  EXPECT_THROW(co_await aio::wait_for(slow_to_cancel(&out, 10), 1), aio::TimeoutError);
  EXPECT_EQ(out, (Lines{"cancel seen", "cleanup done"}));
  EXPECT_EQ(now(), 2.0);
}

AIO_TEST(WaitFor, AroundASleep) {
  // The deadline's cancellation of a sleep is left pending on the task (no inner task to
  // take it over): it must still become TimeoutError, and leave no cancel request behind.
  EXPECT_THROW(co_await aio::wait_for(aio::sleep(10), 1), aio::TimeoutError);
  EXPECT_EQ(now(), 1.0);
  EXPECT_EQ(aio::current_task().cancelling(), 0);
  EXPECT_EQ(co_await aio::wait_for(aio::sleep(1, 5), 2), 5);
  co_await aio::sleep(5);  // no stray cancellation arrives later
}

AIO_TEST(WaitFor, TimeoutErrorIsAStdRuntimeError) {
  try {
    co_await aio::wait_for(value_after(10, 1), 1);
  } catch (const std::runtime_error&) {
    co_return;
  }
  ADD_FAILURE();
}

AIO_TEST(WaitFor, NoTimeoutWaitsForever) {
  std::optional<double> none;
  EXPECT_EQ(co_await aio::wait_for(value_after(1000, 3), none), 3);
  EXPECT_EQ(now(), 1000.0);
}

AIO_TEST(WaitFor, ZeroTimeout) {
  auto done = aio::create_task(value_after(0, 1));
  co_await done;
  EXPECT_EQ(co_await aio::wait_for(done, 0), 1);  // already done: the result
  EXPECT_THROW(co_await aio::wait_for(value_after(1, 2), 0), aio::TimeoutError);
  EXPECT_THROW(co_await aio::wait_for(value_after(1, 2), -5), aio::TimeoutError);
}

AIO_TEST(WaitFor, ZeroTimeoutNeverStartsACoroutine) {
  bool started = false;
  auto body = [](bool* s) -> aio::Task<int> {
    *s = true;
    co_await aio::sleep(1);
    co_return 1;
  };
  EXPECT_THROW(co_await aio::wait_for(body(&started), 0), aio::TimeoutError);
  EXPECT_THROW(co_await aio::wait_for(body(&started), -1.0), aio::TimeoutError);
  EXPECT_THROW(co_await aio::wait_for(body(&started), std::chrono::seconds(0)), aio::TimeoutError);
  EXPECT_FALSE(started);
  EXPECT_EQ(co_await aio::wait_for(body(&started), 2), 1);  // a positive timeout runs it
  EXPECT_TRUE(started);
  EXPECT_EQ(aio::current_task().cancelling(), 0);
}

AIO_TEST(WaitFor, ErrorRaisedWhileBeingCancelledPropagates) {
  auto inner = aio::create_task([]() -> aio::Task<int> {
    try {
      co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
      throw std::logic_error("raised on cancel");
    }
    co_return 0;
  }());
  EXPECT_THROW(co_await aio::wait_for(inner, 1), std::logic_error);  // not TimeoutError
  EXPECT_EQ(aio::current_task().cancelling(), 0);
}

AIO_TEST(WaitFor, InnerSwallowingTheCancellationGivesItsValue) {
  // asyncio 3.12: `async with timeout(): return await fut` returns what fut returned.
  EXPECT_EQ(co_await aio::wait_for(swallow_cancel(), 1), 42);
}

AIO_TEST(WaitFor, FailureInTime) {
  auto failing = []() -> aio::Task<int> {
    co_await aio::sleep(1);
    throw std::invalid_argument("bad");
  };
  EXPECT_THROW(co_await aio::wait_for(failing(), 5), std::invalid_argument);
}

AIO_TEST(WaitFor, OuterTaskCancelledMidWaitForRaisesCancelledError) {
  Lines out;
  auto inner = aio::create_task(slow_to_cancel(&out, 100));
  auto outer = aio::create_task(noting_the_error([inner] { return aio::wait_for(inner, 50); }, out));
  co_await aio::sleep(5);
  outer.cancel();
  EXPECT_THROW(co_await outer, aio::CancelledError);
  EXPECT_TRUE(outer.cancelled());
  EXPECT_TRUE(inner.cancelled());
  EXPECT_EQ(out, (Lines{"cancel seen", "cleanup done", "CancelledError"}));
  co_await aio::sleep(100);  // the dead deadline never fires into anything
}

AIO_TEST(WaitFor, OuterCancelledAtTheDeadlineStaysCancelled) {
  // The deadline and an outside cancel() in the same iteration: cancellation wins.
  Lines out;
  auto outer = aio::create_task(noting_the_error([] { return aio::wait_for(value_after(100, 1), 5); }, out));
  aio::get_running_loop().call_at(now() + 5, [outer] { outer.cancel(); });
  EXPECT_THROW(co_await outer, aio::CancelledError);
  EXPECT_EQ(out, Lines{"CancelledError"});
}

AIO_TEST(WaitFor, CancelledTaskMidWaitForFreesEverything) {
  // The task holding the wait_for is cancelled and dropped: nothing dangles (ASan).
  {
    auto t = aio::create_task([]() -> aio::Task<> { co_await aio::wait_for(value_after(100, 1), 10); }());
    co_await aio::sleep(1);
    t.cancel();
  }
  co_await aio::sleep(20);
  EXPECT_EQ(aio::all_tasks().size(), 1u);
}

AIO_TEST(WaitFor, CancellingTheWaitBeforeItStartsLeavesTheTaskAlone) {
  auto inner = aio::create_task(value_after(0.3, 42));
  auto waiter = aio::ensure_future(aio::wait_for(inner, 0.1));
  waiter.cancel();
  EXPECT_THROW(co_await waiter, aio::CancelledError);
  EXPECT_EQ(co_await inner, 42);
}

AIO_TEST(WaitFor, CancellingAWaitWithoutTimeoutCancelsTheTask) {
  std::vector<std::optional<double>> timeouts(2);
  timeouts[1] = 60.0;
  for (auto timeout : timeouts) {
    auto blocked = aio::create_task([]() -> aio::Task<> {
      co_await aio::get_running_loop().create_future();  // never set
    }());
    auto waiter = aio::ensure_future(aio::wait_for(blocked, timeout));
    aio::get_running_loop().call_soon([waiter] { waiter.cancel(); });
    EXPECT_THROW(co_await waiter, aio::CancelledError);
    EXPECT_TRUE(blocked.cancelled());
  }
}

AIO_TEST(WaitFor, NoStrayCancellationAfterAQuickResult) {
  // python/cpython#86296: the deadline of a finished wait_for must not cancel later awaits
  bool reached_end = false;
  auto t = aio::create_task([](bool* end) -> aio::Task<> {
    co_await aio::wait_for([]() -> aio::Task<> { co_return; }(), 100);
    co_await aio::sleep(1);
    *end = true;
  }(&reached_end));
  co_await aio::sleep(0);
  EXPECT_FALSE(t.done());
  t.cancel();
  EXPECT_THROW(co_await t, aio::CancelledError);
  EXPECT_FALSE(reached_end);
  co_await aio::sleep(200);
}

// ---- timeout(delay, aw) / timeout_at(when, aw) ---------------------------------

AIO_TEST(Timeout, AroundOneAwaitable) {
  EXPECT_EQ(co_await aio::timeout(2, value_after(1, 1)), 1);
  EXPECT_THROW(co_await aio::timeout(1, value_after(2, 1)), aio::TimeoutError);
  EXPECT_EQ(co_await aio::timeout_at(now() + 2, value_after(1, 3)), 3);
  EXPECT_THROW(co_await aio::timeout_at(now() + 1, value_after(2, 1)), aio::TimeoutError);
  EXPECT_EQ(co_await aio::timeout_at(std::nullopt, value_after(50, 4)), 4);
  auto f = aio::get_running_loop().create_future<int>();
  EXPECT_THROW(co_await aio::timeout(1, f), aio::TimeoutError);
  EXPECT_TRUE(f.cancelled());  // asyncio cancels what it waited for
  EXPECT_THROW(co_await aio::timeout(std::chrono::milliseconds(10), aio::sleep(1)), aio::TimeoutError);
}

// ---- with(aio::timeout(...), body) -------------------------------------------------

AIO_TEST(Timeout, ContextManagerExpires) {
  Lines out;
  auto cm = aio::timeout(2);
  EXPECT_EQ(cm.when(), std::optional<double>(now() + 2));
  try {
    co_await aio::with(cm, [&](aio::Timeout& t) -> aio::Task<> {
      EXPECT_FALSE(t.expired());
      out.push_back("body");
      co_await aio::sleep(10);
      out.push_back("not reached");
    });
  } catch (const aio::TimeoutError&) {
    out.push_back("TimeoutError");
  }
  EXPECT_TRUE(cm.expired());
  EXPECT_EQ(out, (Lines{"body", "TimeoutError"}));
  EXPECT_EQ(now(), 2.0);
  EXPECT_EQ(aio::current_task().cancelling(), 0);
}

AIO_TEST(Timeout, ContextManagerInTimeReturnsTheBodysValue) {
  auto cm = aio::timeout(5.0);
  int v = co_await aio::with(cm, [](aio::Timeout&) -> aio::Task<int> { co_return co_await value_after(1, 9); });
  EXPECT_EQ(v, 9);
  EXPECT_FALSE(cm.expired());
  co_await aio::sleep(10);  // the deadline is gone with the scope
  EXPECT_EQ(aio::current_task().cancelling(), 0);
}

AIO_TEST(Timeout, CatchingTheCancellationInsideStillRaisesTimeoutError) {
  Lines out;
  auto cm = aio::timeout(1);
  EXPECT_THROW(co_await aio::with(cm,
                                  [&](aio::Timeout&) -> aio::Task<> {
                                    try {
                                      co_await aio::sleep(10);
                                    } catch (const aio::CancelledError&) {
                                      out.push_back("cancelled inside");
                                      throw;
                                    }
                                  }),
               aio::TimeoutError);
  EXPECT_EQ(out, Lines{"cancelled inside"});
}

AIO_TEST(Timeout, NoneThenReschedule) {
  auto cm = aio::timeout(std::nullopt);
  EXPECT_EQ(cm.when(), std::nullopt);
  Lines out;
  try {
    co_await aio::with(cm, [&](aio::Timeout& t) -> aio::Task<> {
      co_await aio::sleep(1);
      t.reschedule(now() + 2);
      EXPECT_EQ(t.when(), std::optional<double>(3.0));
      co_await aio::sleep(10);
      out.push_back("not reached");
    });
  } catch (const aio::TimeoutError&) {
    out.push_back("TimeoutError at " + std::to_string(static_cast<int>(now())));
  }
  EXPECT_EQ(out, Lines{"TimeoutError at 3"});
}

AIO_TEST(Timeout, RescheduleLaterAndToNone) {
  auto cm = aio::timeout(1);
  co_await aio::with(cm, [&](aio::Timeout& t) -> aio::Task<> {
    t.reschedule(now() + 5);
    co_await aio::sleep(3);  // past the first deadline
    t.reschedule(std::nullopt);
    co_await aio::sleep(10);
  });
  EXPECT_FALSE(cm.expired());
  EXPECT_EQ(now(), 13.0);
}

AIO_TEST(Timeout, TimeoutAtContextManager) {
  auto cm = aio::timeout_at(now() + 1);
  EXPECT_THROW(co_await aio::with(cm, [](aio::Timeout&) -> aio::Task<> { co_await aio::sleep(2); }),
               aio::TimeoutError);
  EXPECT_TRUE(cm.expired());
}

AIO_TEST(Timeout, DeadlineInThePastExpiresAtTheFirstAwait) {
  auto cm = aio::timeout(-1);
  EXPECT_THROW(co_await aio::with(cm, [](aio::Timeout&) -> aio::Task<> { co_await aio::sleep(0); }),
               aio::TimeoutError);
  auto zero = aio::timeout(0);
  EXPECT_THROW(co_await aio::with(zero, [](aio::Timeout&) -> aio::Task<> { co_await aio::sleep(100); }),
               aio::TimeoutError);
}

AIO_TEST(Timeout, NestedOuterExpiresFirst) {
  auto outer = aio::timeout(1);
  auto inner = aio::timeout(5);
  Lines out;
  try {
    co_await aio::with(outer, [&](aio::Timeout&) -> aio::Task<> {
      co_await sleep_noting_how_it_ends(inner, out);  // "inner TimeoutError" must not happen here
    });
  } catch (const aio::TimeoutError&) {
    out.push_back("outer TimeoutError");
  }
  EXPECT_TRUE(outer.expired());
  EXPECT_FALSE(inner.expired());
  EXPECT_EQ(out, (Lines{"inner CancelledError", "outer TimeoutError"}));
  EXPECT_EQ(aio::current_task().cancelling(), 0);
}

AIO_TEST(Timeout, NestedInnerExpiresFirst) {
  auto outer = aio::timeout(5);
  auto inner = aio::timeout(1);
  Lines out;
  co_await aio::with(outer, [&](aio::Timeout&) -> aio::Task<> {
    co_await sleep_noting_how_it_ends(inner, out);
    co_await aio::sleep(1);  // the outer scope goes on
    out.push_back("outer body done");
  });
  EXPECT_FALSE(outer.expired());
  EXPECT_TRUE(inner.expired());
  EXPECT_EQ(out, (Lines{"inner TimeoutError", "outer body done"}));
}

AIO_TEST(Timeout, NestedSameDeadline) {
  auto outer = aio::timeout(1);
  auto inner = aio::timeout(1);
  Lines out;
  try {
    co_await aio::with(outer, [&](aio::Timeout&) -> aio::Task<> {
      co_await sleep_noting_how_it_ends(inner, out);
      co_await aio::sleep(0);  // the outer deadline also passed: cancelled here
      out.push_back("not reached");
    });
  } catch (const aio::TimeoutError&) {
    out.push_back("outer TimeoutError");
  }
  EXPECT_TRUE(outer.expired());
  EXPECT_TRUE(inner.expired());
  EXPECT_EQ(out.back(), "outer TimeoutError");
  EXPECT_EQ(aio::current_task().cancelling(), 0);
}

AIO_TEST(Timeout, OutsideCancelInsideATimeoutStaysCancelledError) {
  Lines out;
  auto t = aio::create_task([](Lines* o) -> aio::Task<> {
    auto cm = aio::timeout(10);
    try {
      co_await aio::with(cm, [](aio::Timeout&) -> aio::Task<> { co_await aio::sleep(100); });
    } catch (const aio::TimeoutError&) {
      o->push_back("TimeoutError");
    } catch (const aio::CancelledError&) {
      o->push_back(cm.expired() ? "CancelledError, expired" : "CancelledError");
      throw;
    }
  }(&out));
  co_await aio::sleep(1);
  t.cancel();
  EXPECT_THROW(co_await t, aio::CancelledError);
  EXPECT_EQ(out, Lines{"CancelledError"});
}

AIO_TEST(Timeout, BodyExceptionPassesThrough) {
  auto cm = aio::timeout(10);
  EXPECT_THROW(co_await aio::with(cm,
                                  [](aio::Timeout&) -> aio::Task<> {
                                    co_await aio::sleep(1);
                                    throw std::logic_error("inside");
                                  }),
               std::logic_error);
  EXPECT_FALSE(cm.expired());
}

AIO_TEST(Timeout, AroundATaskGroup) {
  Lines out;
  auto cm = aio::timeout(1);
  try {
    co_await aio::with(cm, [&](aio::Timeout&) -> aio::Task<> {
      aio::TaskGroup tg;
      tg.create_task([](Lines* o) -> aio::Task<> {
        try {
          co_await aio::sleep(10);
        } catch (const aio::CancelledError&) {
          o->push_back("child cancelled");
          throw;
        }
      }(&out));
      co_await tg.join();
    });
    ADD_FAILURE();
  } catch (const aio::TimeoutError&) {
    out.push_back("TimeoutError");
  }
  EXPECT_EQ(out, (Lines{"child cancelled", "TimeoutError"}));
  EXPECT_EQ(aio::current_task().cancelling(), 0);
}

AIO_TEST(Timeout, InsideATaskAlreadyBeingCancelled) {
  // The task swallowed a cancellation without uncancel(); a timeout in its cleanup still
  // raises TimeoutError (it compares with the count at entry).
  Lines out;
  try {
    aio::current_task().cancel();
    co_await aio::sleep(1);
  } catch (const aio::CancelledError&) {
    out.push_back("cancelled");
  }
  auto cm = aio::timeout(0.0);
  try {
    co_await aio::with(cm, [](aio::Timeout&) -> aio::Task<> { co_await aio::sleep(1); });
  } catch (const aio::TimeoutError&) {
    out.push_back("TimeoutError");
  }
  EXPECT_EQ(out, (Lines{"cancelled", "TimeoutError"}));
  EXPECT_EQ(aio::current_task().cancelling(), 1);
  aio::current_task().uncancel();
}

AIO_TEST(Timeout, OtherErrorRaisedOnExpiryPassesThrough) {
  auto cm = aio::timeout(1);
  EXPECT_THROW(co_await aio::with(cm,
                                  [](aio::Timeout&) -> aio::Task<> {
                                    try {
                                      co_await aio::sleep(10);
                                    } catch (const aio::CancelledError&) {
                                      throw std::out_of_range("instead");
                                    }
                                  }),
               std::out_of_range);
  EXPECT_TRUE(cm.expired());
  EXPECT_EQ(aio::current_task().cancelling(), 0);
}

AIO_TEST(Timeout, EnteredOnceAndRescheduledOnlyInside) {
  auto cm = aio::timeout(10);
  EXPECT_THROW(cm.reschedule(5), std::runtime_error);  // not entered yet
  co_await aio::with(cm, [](aio::Timeout& t) -> aio::Task<> {
    try {
      co_await aio::with(t, [](aio::Timeout&) -> aio::Task<> { co_return; });
      ADD_FAILURE() << "entered twice";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "Timeout has already been entered");
    }
    co_return;
  });
  try {
    cm.reschedule(5);
    ADD_FAILURE();
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "Cannot change state of finished Timeout");
  }
  EXPECT_THROW(co_await aio::with(cm, [](aio::Timeout&) -> aio::Task<> { co_return; }), std::runtime_error);
  auto expired = aio::timeout(1);
  EXPECT_THROW(co_await aio::with(expired, [](aio::Timeout&) -> aio::Task<> { co_await aio::sleep(2); }),
               aio::TimeoutError);
  try {
    expired.reschedule(5);
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "Cannot change state of expired Timeout");
  }
}

AIO_TEST(Timeout, NestedTimeoutInCleanupAfterExpiry) {
  // The outer deadline passed; the cleanup runs its own timeout, which expires too: each
  // scope raises its own TimeoutError.
  Lines out;
  auto outer = aio::timeout(0.01);
  try {
    co_await aio::with(outer, [&](aio::Timeout&) -> aio::Task<> {
      std::exception_ptr cancelled;
      try {
        co_await aio::sleep(1);
      } catch (const aio::CancelledError&) {
        cancelled = std::current_exception();
      }
      auto inner = aio::timeout(0.01);
      try {
        co_await aio::with(inner, [](aio::Timeout&) -> aio::Task<> { co_await aio::sleep(10); });
      } catch (const aio::TimeoutError&) {
        out.push_back("inner TimeoutError");
      }
      if (cancelled) std::rethrow_exception(cancelled);  // Python's `finally:` re-raises
    });
  } catch (const aio::TimeoutError&) {
    out.push_back("outer TimeoutError");
  }
  EXPECT_EQ(out, (Lines{"inner TimeoutError", "outer TimeoutError"}));
  EXPECT_EQ(aio::current_task().cancelling(), 0);
}
