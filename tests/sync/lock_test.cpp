// aio::Lock, Event, Condition, Semaphore, BoundedSemaphore: CPython's
// Lib/test/test_asyncio/test_locks.py, plus hold() guards and fairness.
#include <aio/sync.hpp>

#include <cstddef>
#include <string>
#include <vector>

#include "sync_helpers.hpp"

using sync_test::repr;
using sync_test::throws;
using sync_test::tick;

namespace {

/// CPython's condition waiter: takes the lock, waits, notes `n` once woken and lets go.
aio::Task<bool> note_when_notified(aio::Condition& cond, std::vector<int>& result, int n) {
  co_await cond.acquire();
  const bool woken = co_await cond.wait();
  if (woken) {
    result.push_back(n);
    cond.release();
  }
  co_return true;
}

/// notify(n) from a task, which must hold the lock for it.
aio::Task<> notify_holding_the_lock(aio::Condition& cond, std::size_t n = 1) {
  co_await cond.acquire();
  cond.notify(n);
  cond.release();
}

/// Every task is done and returned true.
template <class... H>
bool all_returned_true(const H&... tasks) {
  return ((tasks.done() && tasks.result()) && ...);
}

/// CPython's test_release_no_waiters, for a Lock or a Semaphore.
template <class L>
aio::Task<> release_no_waiters(L& lock) {
  co_await lock.acquire();
  EXPECT_TRUE(lock.locked());
  lock.release();
  EXPECT_FALSE(lock.locked());
}

/// CPython's test_acquire_cancel and test_wait_cancel: a task waiting in `wait()` is
/// cancelled from a callback; true when awaiting it then raises CancelledError.
template <class F>
aio::Task<bool> cancelled_while_waiting(F& wait) {
  auto task = aio::create_task(wait());
  aio::get_running_loop().call_soon([task] { task.cancel(); });
  co_return co_await throws<aio::CancelledError>([&] { return task; });
}

/// CPython's acquiring coroutine: takes `lock` (a Lock or a Semaphore) and notes `n`.
template <class L>
aio::Task<bool> note_when_acquired(L& lock, std::vector<int>& result, int n) {
  const bool acquired = co_await lock.acquire();
  if (acquired) result.push_back(n);
  co_return true;
}

}  // namespace

// ---- Lock --------------------------------------------------------------------------------

AIO_TEST(Lock, Repr) {
  aio::Lock lock;
  EXPECT_EQ(repr(lock), "<Lock [unlocked]>");
  co_await lock.acquire();
  EXPECT_EQ(repr(lock), "<Lock [locked]>");
  auto acquire = [&]() -> aio::Task<> { co_await lock.acquire(); };
  auto t = aio::create_task(acquire());
  co_await tick();
  EXPECT_EQ(repr(lock), "<Lock [locked, waiters:1]>");
  lock.release();
  co_await t;
  lock.release();
}

AIO_TEST(Lock, Acquire) {
  aio::Lock lock;
  std::vector<int> result;
  EXPECT_TRUE(co_await lock.acquire());
  auto c = [&](int n) { return note_when_acquired(lock, result, n); };
  auto t1 = aio::create_task(c(1));
  auto t2 = aio::create_task(c(2));
  co_await tick();
  EXPECT_EQ(result, std::vector<int>{});
  lock.release();
  co_await tick();
  EXPECT_EQ(result, std::vector<int>{1});
  co_await tick();
  EXPECT_EQ(result, std::vector<int>{1});
  auto t3 = aio::create_task(c(3));
  lock.release();
  co_await tick();
  EXPECT_EQ(result, (std::vector<int>{1, 2}));
  lock.release();
  co_await tick();
  EXPECT_EQ(result, (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(all_returned_true(t1, t2, t3));
}

AIO_TEST(Lock, AcquireCancel) {
  aio::Lock lock;
  co_await lock.acquire();
  auto acquire = [&]() -> aio::Task<bool> { co_return co_await lock.acquire(); };
  EXPECT_TRUE(co_await cancelled_while_waiting(acquire));
  EXPECT_EQ(repr(lock), "<Lock [locked]>");  // no waiter left
}

AIO_TEST(Lock, CancelRace) {
  // A holds the lock, B and C wait. B is cancelled and A releases at once: C must get it.
  aio::Lock lock;
  auto fa = aio::get_running_loop().create_future<>();
  auto lockit = [&](aio::Future<> blocker) -> aio::Task<> {
    co_await lock.acquire();
    if (blocker) co_await blocker;
    lock.release();
  };
  auto ta = aio::create_task(lockit(fa));
  co_await tick();
  EXPECT_TRUE(lock.locked());
  auto tb = aio::create_task(lockit({}));
  co_await tick();
  EXPECT_EQ(repr(lock), "<Lock [locked, waiters:1]>");
  auto tc = aio::create_task(lockit({}));
  co_await tick();
  EXPECT_EQ(repr(lock), "<Lock [locked, waiters:2]>");
  fa.set_result();
  tb.cancel();
  co_await tick();
  EXPECT_FALSE(lock.locked());  // released by A; C is woken but has not run yet
  EXPECT_TRUE(ta.done());
  EXPECT_TRUE(tb.cancelled());
  co_await tc;
}

AIO_TEST(Lock, CancelReleaseRace) {
  // Cancel the first waiter and release in the same step: exactly one task gets the lock.
  aio::Lock lock;
  int lock_count = 0;
  int call_count = 0;
  auto lockit = [&]() -> aio::Task<> {
    ++call_count;
    co_await lock.acquire();
    ++lock_count;
  };
  co_await lock.acquire();
  auto t1 = aio::create_task(lockit());
  auto t2 = aio::create_task(lockit());
  auto t3 = aio::create_task(lockit());
  co_await tick();
  aio::get_running_loop().call_soon([&] {
    t1.cancel();
    lock.release();
  });
  EXPECT_TRUE(co_await throws<aio::CancelledError>([&] { return t1; }));
  EXPECT_EQ(lock_count, 1);
  EXPECT_EQ(call_count, 3);
  EXPECT_TRUE(t1.cancelled() && t2.done());
  t3.cancel();
  co_await tick();
  EXPECT_TRUE(t3.cancelled());
}

AIO_TEST(Lock, FinishedWaiterCancelled) {
  aio::Lock lock;
  co_await lock.acquire();
  auto acquire = [&]() -> aio::Task<bool> { co_return co_await lock.acquire(); };
  auto tb = aio::create_task(acquire());
  co_await tick();
  EXPECT_EQ(repr(lock), "<Lock [locked, waiters:1]>");
  auto tc = aio::create_task(acquire());
  tb.cancel();
  lock.release();
  co_await tick();
  EXPECT_TRUE(lock.locked());  // tc has it
  EXPECT_TRUE(tb.cancelled());
  co_await tc;
}

AIO_TEST(Lock, WokenWaiterCancelledPassesTheLockOn) {
  aio::Lock lock;
  co_await lock.acquire();
  auto acquire = [&]() -> aio::Task<bool> { co_return co_await lock.acquire(); };
  auto tb = aio::create_task(acquire());
  auto tc = aio::create_task(acquire());
  co_await tick();
  lock.release();  // wakes tb ...
  tb.cancel();     // ... cancelled before it runs: tc must get the lock
  co_await tick();
  EXPECT_TRUE(tb.cancelled());
  co_await tick();
  EXPECT_TRUE(tc.done());
  EXPECT_TRUE(lock.locked());
}

TEST(Lock, ReleaseNotAcquired) {
  aio::Lock lock;
  EXPECT_THROW(lock.release(), std::runtime_error);
}

AIO_TEST(Lock, ReleaseNoWaiters) {
  aio::Lock lock;
  co_await release_no_waiters(lock);
}

AIO_TEST(Lock, Hold) {
  aio::Lock lock;
  {
    auto held = co_await lock.hold();
    EXPECT_TRUE(lock.locked());
    EXPECT_TRUE(static_cast<bool>(held));
  }
  EXPECT_FALSE(lock.locked());
  {
    auto held = co_await lock.hold();
    held.release();
    EXPECT_FALSE(lock.locked());
    EXPECT_FALSE(static_cast<bool>(held));
  }
  EXPECT_FALSE(lock.locked());
  try {  // released on the way out of an exception too
    auto held = co_await lock.hold();
    throw std::domain_error("boom");
  } catch (const std::domain_error&) {
  }
  EXPECT_FALSE(lock.locked());
}

AIO_TEST(Lock, ReleasingTaskDoesNotBargeAhead) {
  // One task releases and immediately re-acquires: the waiters go first, in FIFO order.
  aio::Lock lock;
  std::vector<std::string> order;
  auto worker = [&](std::string name, int rounds) -> aio::Task<> {
    for (int i = 0; i < rounds; ++i) {
      auto held = co_await lock.hold();
      order.push_back(name);
      co_await tick();
    }
  };
  co_await aio::gather(worker("a", 3), worker("b", 3), worker("c", 3));
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c", "a", "b", "c", "a", "b", "c"}));
}

AIO_TEST(Lock, NoBargingWhileWokenWaiterPending) {
  aio::Lock lock;
  co_await lock.acquire();
  auto acquire = [&]() -> aio::Task<bool> { co_return co_await lock.acquire(); };
  auto waiter = aio::create_task(acquire());
  co_await tick();
  lock.release();
  EXPECT_FALSE(lock.locked());  // as asyncio: unlocked, but the woken waiter has priority
  auto barger = aio::create_task(acquire());
  co_await tick();
  EXPECT_TRUE(waiter.done());
  EXPECT_FALSE(barger.done());
  lock.release();
  co_await barger;
  lock.release();
}

// ---- Event -------------------------------------------------------------------------------

AIO_TEST(Event, Repr) {
  aio::Event ev;
  EXPECT_EQ(repr(ev), "<Event [unset]>");
  auto wait = [&]() -> aio::Task<> { co_await ev.wait(); };
  auto t = aio::create_task(wait());
  co_await tick();
  EXPECT_EQ(repr(ev), "<Event [unset, waiters:1]>");
  ev.set();
  EXPECT_EQ(repr(ev), "<Event [set, waiters:1]>");  // woken, not yet run
  co_await t;
  EXPECT_EQ(repr(ev), "<Event [set]>");
}

AIO_TEST(Event, Wait) {
  aio::Event ev;
  EXPECT_FALSE(ev.is_set());
  std::vector<int> result;
  auto c = [&](int n) -> aio::Task<> {
    if (co_await ev.wait()) result.push_back(n);
  };
  auto t1 = aio::create_task(c(1));
  auto t2 = aio::create_task(c(2));
  co_await tick();
  EXPECT_EQ(result, std::vector<int>{});
  auto t3 = aio::create_task(c(3));
  ev.set();
  co_await tick();
  EXPECT_EQ(result, (std::vector<int>{3, 1, 2}));  // t3 was already scheduled; then FIFO
  EXPECT_TRUE(t1.done() && t2.done() && t3.done());
}

AIO_TEST(Event, WaitOnSet) {
  aio::Event ev;
  ev.set();
  EXPECT_TRUE(co_await ev.wait());
}

AIO_TEST(Event, WaitCancel) {
  aio::Event ev;
  auto wait = [&]() -> aio::Task<> { co_await ev.wait(); };
  auto t = aio::create_task(wait());
  aio::get_running_loop().call_soon([t] { t.cancel(); });
  EXPECT_TRUE(co_await throws<aio::CancelledError>([&] { return t; }));
  EXPECT_EQ(repr(ev), "<Event [unset]>");
}

TEST(Event, Clear) {
  aio::Event ev;
  EXPECT_FALSE(ev.is_set());
  ev.set();
  EXPECT_TRUE(ev.is_set());
  ev.clear();
  EXPECT_FALSE(ev.is_set());
}

AIO_TEST(Event, ClearWithWaiters) {
  aio::Event ev;
  std::vector<int> result;
  auto c = [&]() -> aio::Task<bool> {
    if (co_await ev.wait()) result.push_back(1);
    co_return true;
  };
  auto t = aio::create_task(c());
  co_await tick();
  EXPECT_EQ(result, std::vector<int>{});
  ev.set();
  ev.clear();
  EXPECT_FALSE(ev.is_set());
  ev.set();
  ev.set();
  EXPECT_EQ(repr(ev), "<Event [set, waiters:1]>");
  co_await tick();
  EXPECT_EQ(result, std::vector<int>{1});
  EXPECT_EQ(repr(ev), "<Event [set]>");
  EXPECT_TRUE(t.done() && t.result());
}

// ---- Condition ---------------------------------------------------------------------------

AIO_TEST(Condition, Wait) {
  aio::Condition cond;
  std::vector<int> result;
  auto c = [&](int n) -> aio::Task<bool> {
    co_await cond.acquire();
    if (co_await cond.wait()) result.push_back(n);
    co_return true;
  };
  auto t1 = aio::create_task(c(1));
  auto t2 = aio::create_task(c(2));
  auto t3 = aio::create_task(c(3));
  co_await tick();
  EXPECT_EQ(result, std::vector<int>{});
  EXPECT_FALSE(cond.locked());

  EXPECT_TRUE(co_await cond.acquire());
  cond.notify();
  co_await tick();
  EXPECT_EQ(result, std::vector<int>{});
  EXPECT_TRUE(cond.locked());

  cond.release();
  co_await tick();
  EXPECT_EQ(result, std::vector<int>{1});
  EXPECT_TRUE(cond.locked());

  cond.notify(2);
  co_await tick();
  EXPECT_EQ(result, std::vector<int>{1});
  EXPECT_TRUE(cond.locked());

  cond.release();
  co_await tick();
  EXPECT_EQ(result, (std::vector<int>{1, 2}));
  EXPECT_TRUE(cond.locked());

  cond.release();
  co_await tick();
  EXPECT_EQ(result, (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(cond.locked());
  EXPECT_TRUE(all_returned_true(t1, t2, t3));
}

AIO_TEST(Condition, WaitCancel) {
  aio::Condition cond;
  co_await cond.acquire();
  auto wait = [&]() -> aio::Task<bool> { co_return co_await cond.wait(); };
  EXPECT_TRUE(co_await cancelled_while_waiting(wait));
  EXPECT_EQ(repr(cond), "<Condition [locked]>");  // no waiter left, the lock taken back
}

AIO_TEST(Condition, WaitCancelContested) {
  aio::Condition cond;
  co_await cond.acquire();
  EXPECT_TRUE(cond.locked());
  auto wait = [&]() -> aio::Task<bool> { co_return co_await cond.wait(); };
  auto wait_task = aio::create_task(wait());
  co_await tick();
  EXPECT_FALSE(cond.locked());
  co_await cond.acquire();  // notify, but contest the lock before cancelling
  EXPECT_TRUE(cond.locked());
  cond.notify();
  auto& loop = aio::get_running_loop();
  loop.call_soon([wait_task] { wait_task.cancel(); });
  loop.call_soon([&] { cond.release(); });
  try {
    co_await wait_task;
  } catch (const aio::CancelledError&) {
    // possible: it was cancelled while taking the lock back
  }
  EXPECT_TRUE(cond.locked());
}

AIO_TEST(Condition, WaitCancelAfterNotify) {
  bool waited = false;
  aio::Condition cond;
  auto wait_on_cond = [&]() -> aio::Task<> {
    auto held = co_await cond.hold();
    waited = true;
    co_await cond.wait();
  };
  auto waiter = aio::create_task(wait_on_cond());
  co_await tick();  // start waiting
  co_await cond.acquire();
  cond.notify();
  co_await tick();  // it gets to acquire()
  waiter.cancel();
  co_await tick();  // the cancellation lands
  cond.release();
  co_await tick();  // it takes the lock, then raises
  EXPECT_TRUE(waiter.cancelled());
  EXPECT_TRUE(waited);
  EXPECT_FALSE(cond.locked());
}

AIO_TEST(Condition, WaitUnacquired) {
  aio::Condition cond;
  EXPECT_TRUE(co_await throws<std::runtime_error>([&] { return cond.wait(); }));
}

AIO_TEST(Condition, WaitFor) {
  aio::Condition cond;
  bool presult = false;
  std::vector<int> result;
  auto c = [&]() -> aio::Task<bool> {
    co_await cond.acquire();
    if (co_await cond.wait_for([&] { return presult; })) {
      result.push_back(1);
      cond.release();
    }
    co_return true;
  };
  auto t = aio::create_task(c());
  co_await tick();
  EXPECT_EQ(result, std::vector<int>{});
  co_await notify_holding_the_lock(cond);
  co_await tick();
  EXPECT_EQ(result, std::vector<int>{});  // woken, predicate still false: waits again
  presult = true;
  co_await notify_holding_the_lock(cond);
  co_await tick();
  EXPECT_EQ(result, std::vector<int>{1});
  EXPECT_TRUE(t.done() && t.result());
}

AIO_TEST(Condition, WaitForUnacquired) {
  aio::Condition cond;
  // the predicate can be true at once: no lock needed, its value comes back
  auto res = co_await cond.wait_for([] { return std::vector<int>{1, 2, 3}.size(); });
  EXPECT_EQ(res, 3u);
  EXPECT_TRUE(co_await throws<std::runtime_error>([&] { return cond.wait_for([] { return false; }); }));
}

AIO_TEST(Condition, Notify) {
  aio::Condition cond;
  std::vector<int> result;
  auto t1 = aio::create_task(note_when_notified(cond, result, 1));
  auto t2 = aio::create_task(note_when_notified(cond, result, 2));
  auto t3 = aio::create_task(note_when_notified(cond, result, 3));
  co_await tick();
  EXPECT_EQ(result, std::vector<int>{});
  co_await notify_holding_the_lock(cond, 1);
  co_await tick();
  EXPECT_EQ(result, std::vector<int>{1});
  co_await cond.acquire();
  cond.notify(1);
  cond.notify(2048);
  cond.release();
  co_await tick();
  EXPECT_EQ(result, (std::vector<int>{1, 2, 3}));
  EXPECT_TRUE(t1.done() && t2.done() && t3.done());
}

AIO_TEST(Condition, NotifyAll) {
  aio::Condition cond;
  std::vector<int> result;
  auto t1 = aio::create_task(note_when_notified(cond, result, 1));
  auto t2 = aio::create_task(note_when_notified(cond, result, 2));
  co_await tick();
  EXPECT_EQ(result, std::vector<int>{});
  co_await cond.acquire();
  cond.notify_all();
  cond.release();
  co_await tick();
  EXPECT_EQ(result, (std::vector<int>{1, 2}));
  EXPECT_TRUE(t1.done() && t2.done());
}

TEST(Condition, NotifyUnacquired) {
  aio::Condition cond;
  EXPECT_THROW(cond.notify(), std::runtime_error);
  EXPECT_THROW(cond.notify_all(), std::runtime_error);
}

AIO_TEST(Condition, Repr) {
  aio::Condition cond;
  EXPECT_EQ(repr(cond), "<Condition [unlocked]>");
  co_await cond.acquire();
  EXPECT_EQ(repr(cond), "<Condition [locked]>");
  auto wait = [&]() -> aio::Task<> {
    auto held = co_await cond.hold();
    co_await cond.wait();
  };
  auto t1 = aio::create_task(wait());
  auto t2 = aio::create_task(wait());
  cond.release();
  co_await tick();
  EXPECT_EQ(repr(cond), "<Condition [unlocked, waiters:2]>");
  co_await cond.acquire();
  cond.notify_all();
  cond.release();
  co_await aio::gather(t1, t2);
}

AIO_TEST(Condition, ExplicitLock) {
  auto f = [](aio::Lock& lock, aio::Condition& cond) -> aio::Task<> {
    EXPECT_FALSE(lock.locked());
    EXPECT_FALSE(cond.locked());
    {
      auto held = co_await cond.hold();
      EXPECT_TRUE(lock.locked());
      EXPECT_TRUE(cond.locked());
    }
    EXPECT_FALSE(lock.locked());
    EXPECT_FALSE(cond.locked());
    {
      auto held = co_await lock.hold();
      EXPECT_TRUE(lock.locked());
      EXPECT_TRUE(cond.locked());
    }
    EXPECT_FALSE(lock.locked());
    EXPECT_FALSE(cond.locked());
  };
  aio::Lock lock;
  aio::Condition cond(lock);
  EXPECT_EQ(&cond.lock(), &lock);
  co_await f(lock, cond);
  aio::Condition own;
  co_await f(own.lock(), own);
}

AIO_TEST(Condition, TimeoutInBlock) {
  aio::Condition condition;
  auto held = co_await condition.hold();
  bool timed_out = false;
  try {
    co_await aio::wait_for(condition.wait(), 0.5);
  } catch (const aio::TimeoutError&) {
    timed_out = true;
  }
  EXPECT_TRUE(timed_out);
  EXPECT_TRUE(condition.locked());  // the lock came back before the timeout surfaced
}

AIO_TEST(Condition, ProducerConsumer) {
  aio::Condition cond;
  std::vector<int> items;
  std::vector<int> consumed;
  auto consumer = [&]() -> aio::Task<> {
    for (int i = 0; i < 3; ++i) {
      auto held = co_await cond.hold();
      co_await cond.wait_for([&] { return !items.empty(); });
      consumed.push_back(items.front());
      items.erase(items.begin());
    }
  };
  auto t = aio::create_task(consumer());
  for (int i = 1; i <= 3; ++i) {
    co_await aio::sleep(0.1);
    auto held = co_await cond.hold();
    items.push_back(i);
    cond.notify();
  }
  co_await t;
  EXPECT_EQ(consumed, (std::vector<int>{1, 2, 3}));
}

// ---- Semaphore ---------------------------------------------------------------------------

TEST(Semaphore, InitialValue) {
  aio::Semaphore zero(0);
  EXPECT_TRUE(zero.locked());
  EXPECT_THROW(aio::Semaphore(-1), std::invalid_argument);
  aio::Semaphore one;
  EXPECT_FALSE(one.locked());
  EXPECT_EQ(one.value(), 1);
}

AIO_TEST(Semaphore, Repr) {
  aio::Semaphore sem;
  EXPECT_EQ(repr(sem), "<Semaphore [unlocked, value:1]>");
  co_await sem.acquire();
  EXPECT_EQ(repr(sem), "<Semaphore [locked]>");
  auto acquire = [&]() -> aio::Task<> { co_await sem.acquire(); };
  auto t1 = aio::create_task(acquire());
  auto t2 = aio::create_task(acquire());
  co_await tick();
  EXPECT_EQ(repr(sem), "<Semaphore [locked, waiters:2]>");
  sem.release();
  sem.release();
  co_await aio::gather(t1, t2);
  EXPECT_EQ(repr(aio::BoundedSemaphore(2)), "<BoundedSemaphore [unlocked, value:2]>");
}

AIO_TEST(Semaphore, Acquire) {
  aio::Semaphore sem(3);
  std::vector<int> result;
  EXPECT_TRUE(co_await sem.acquire());
  EXPECT_TRUE(co_await sem.acquire());
  EXPECT_FALSE(sem.locked());
  auto c = [&](int n) { return note_when_acquired(sem, result, n); };
  auto t1 = aio::create_task(c(1));
  auto t2 = aio::create_task(c(2));
  auto t3 = aio::create_task(c(3));
  co_await tick();
  EXPECT_EQ(result, std::vector<int>{1});
  EXPECT_TRUE(sem.locked());
  EXPECT_EQ(repr(sem), "<Semaphore [locked, waiters:2]>");
  EXPECT_EQ(sem.value(), 0);

  auto t4 = aio::create_task(c(4));
  sem.release();
  sem.release();
  EXPECT_EQ(sem.value(), 0);  // handed straight to the waiters
  co_await tick();
  EXPECT_EQ(sem.value(), 0);
  EXPECT_EQ(result.size(), 3u);
  EXPECT_TRUE(sem.locked());
  EXPECT_EQ(repr(sem), "<Semaphore [locked, waiters:1]>");
  EXPECT_TRUE(t1.done() && t1.result());
  int done = int(t2.done()) + int(t3.done()) + int(t4.done());
  EXPECT_EQ(done, 2);
  sem.release();
  co_await aio::gather(t2, t3, t4);
}

AIO_TEST(Semaphore, AcquireCancel) {
  aio::Semaphore sem;
  co_await sem.acquire();
  auto acquire = [&]() -> aio::Task<bool> { co_return co_await sem.acquire(); };
  EXPECT_TRUE(co_await cancelled_while_waiting(acquire));
  EXPECT_EQ(repr(sem), "<Semaphore [locked]>");
}

AIO_TEST(Semaphore, AcquireCancelBeforeAwoken) {
  aio::Semaphore sem(0);
  auto acquire = [&]() -> aio::Task<bool> { co_return co_await sem.acquire(); };
  auto t1 = aio::create_task(acquire());
  auto t2 = aio::create_task(acquire());
  auto t3 = aio::create_task(acquire());
  auto t4 = aio::create_task(acquire());
  co_await tick();
  t1.cancel();
  t2.cancel();
  sem.release();
  co_await tick();
  co_await tick();
  EXPECT_EQ(int(t3.done()) + int(t4.done()), 1);
  EXPECT_TRUE(t3.done());
  EXPECT_FALSE(t4.done());
  t3.cancel();
  t4.cancel();
  co_await tick();
}

AIO_TEST(Semaphore, AcquireHang) {
  aio::Semaphore sem(0);
  auto acquire = [&]() -> aio::Task<bool> { co_return co_await sem.acquire(); };
  auto t1 = aio::create_task(acquire());
  auto t2 = aio::create_task(acquire());
  co_await tick();
  t1.cancel();
  sem.release();
  co_await tick();
  co_await tick();
  EXPECT_TRUE(sem.locked());
  EXPECT_TRUE(t2.done());
}

AIO_TEST(Semaphore, AcquireNoHang) {
  // A permit handed to a task that is then cancelled goes back: nobody hangs.
  aio::Semaphore sem(1);
  aio::TaskHandle<> t2;
  auto c1 = [&]() -> aio::Task<> {
    {
      auto held = co_await sem.hold();
      co_await tick();
    }
    t2.cancel();
  };
  auto c2 = [&]() -> aio::Task<> {
    auto held = co_await sem.hold();
    ADD_FAILURE() << "c2 got the semaphore";
  };
  auto t1 = aio::create_task(c1());
  t2 = aio::create_task(c2());
  auto [r1, r2] = co_await aio::gather(aio::return_exceptions, t1, t2);
  EXPECT_TRUE(r1.ok());
  EXPECT_TRUE(r2.cancelled());
  co_await aio::wait_for(sem.acquire(), 1.0);
  EXPECT_EQ(sem.value(), 0);
}

TEST(BoundedSemaphore, ReleaseNotAcquired) {
  aio::BoundedSemaphore sem;
  EXPECT_THROW(sem.release(), std::invalid_argument);
}

AIO_TEST(BoundedSemaphore, Hold) {
  aio::BoundedSemaphore sem(2);
  {
    auto a = co_await sem.hold();
    auto b = co_await sem.hold();
    EXPECT_TRUE(sem.locked());
  }
  EXPECT_EQ(sem.value(), 2);
  EXPECT_THROW(sem.release(), std::invalid_argument);
}

AIO_TEST(Semaphore, ReleaseNoWaiters) {
  aio::Semaphore sem;
  co_await release_no_waiters(sem);
}

AIO_TEST(Semaphore, AcquireFifoOrder) {
  aio::Semaphore sem(1);
  std::vector<std::string> result;
  auto coro = [&](std::string tag) -> aio::Task<> {
    co_await sem.acquire();
    result.push_back(tag + "_1");
    co_await aio::sleep(0.01);
    sem.release();
    co_await sem.acquire();
    result.push_back(tag + "_2");
    co_await aio::sleep(0.01);
    sem.release();
  };
  co_await aio::gather(coro("c1"), coro("c2"), coro("c3"));
  EXPECT_EQ(result, (std::vector<std::string>{"c1_1", "c2_1", "c3_1", "c1_2", "c2_2", "c3_2"}));
}

AIO_TEST(Semaphore, AcquireFifoOrder2) {
  aio::Semaphore sem(1);
  std::vector<int> result;
  auto c1 = [&]() -> aio::Task<bool> {
    co_await sem.acquire();
    result.push_back(1);
    co_return true;
  };
  auto c2 = [&]() -> aio::Task<bool> {
    co_await sem.acquire();
    result.push_back(2);
    sem.release();
    co_await sem.acquire();  // a permit is free, but c3 is ahead in line
    result.push_back(4);
    co_return true;
  };
  auto c3 = [&]() -> aio::Task<bool> {
    co_await sem.acquire();
    result.push_back(3);
    co_return true;
  };
  auto t1 = aio::create_task(c1());
  auto t2 = aio::create_task(c2());
  auto t3 = aio::create_task(c3());
  co_await tick();
  sem.release();
  sem.release();
  co_await aio::gather(t1, t2, t3);
  EXPECT_EQ(result, (std::vector<int>{1, 2, 3, 4}));
}

AIO_TEST(Semaphore, AcquireFifoOrder3) {
  aio::Semaphore sem(0);
  std::vector<int> result;
  auto c = [&](int n) { return note_when_acquired(sem, result, n); };
  auto t1 = aio::create_task(c(1));
  auto t2 = aio::create_task(c(2));
  auto t3 = aio::create_task(c(3));
  co_await tick();
  t1.cancel();
  co_await tick();
  sem.release();
  sem.release();
  co_await aio::gather(aio::return_exceptions, t1, t2, t3);
  EXPECT_EQ(result, (std::vector<int>{2, 3}));
}

AIO_TEST(Semaphore, CancelledWaiterNeverKeepsAPermit) {
  aio::Semaphore sem(2);
  int inside = 0;
  int peak = 0;
  struct Inside {
    int& n;
    ~Inside() { --n; }
  };
  auto worker = [&]() -> aio::Task<> {
    auto held = co_await sem.hold();
    peak = std::max(peak, ++inside);
    Inside leaving{inside};
    co_await aio::sleep(0.1);
  };
  std::vector<aio::TaskHandle<>> tasks;
  for (int i = 0; i < 10; ++i) tasks.push_back(aio::create_task(worker()));
  co_await aio::sleep(0.05);
  for (int i = 0; i < 10; i += 3) tasks[i].cancel();  // some inside, some waiting
  co_await aio::gather(aio::return_exceptions, tasks);
  EXPECT_EQ(peak, 2);
  EXPECT_EQ(sem.value(), 2);
  EXPECT_FALSE(sem.locked());
}

// ---- with timeouts -----------------------------------------------------------------------

AIO_TEST(Lock, AcquireUnderTimeoutLeavesNoWaiter) {
  aio::Lock lock;
  co_await lock.acquire();
  EXPECT_TRUE(co_await throws<aio::TimeoutError>([&] { return aio::timeout(0.5, lock.acquire()); }));
  EXPECT_TRUE(co_await throws<aio::TimeoutError>([&] { return aio::wait_for(lock.acquire(), 0.5); }));
  EXPECT_EQ(repr(lock), "<Lock [locked]>");
  lock.release();
  EXPECT_TRUE(co_await aio::timeout(0.5, lock.acquire()));  // free: at once
  EXPECT_DOUBLE_EQ(aio::get_running_loop().time(), 1.0);
  lock.release();
}

AIO_TEST(Semaphore, AcquireUnderTimeoutKeepsNoPermit) {
  aio::Semaphore sem(1);
  auto holder = [&]() -> aio::Task<> {
    auto held = co_await sem.hold();
    co_await aio::sleep(1);
  };
  auto t = aio::create_task(holder());
  co_await tick();
  EXPECT_TRUE(co_await throws<aio::TimeoutError>([&] { return aio::timeout(0.5, sem.acquire()); }));
  co_await t;
  EXPECT_EQ(sem.value(), 1);
  EXPECT_FALSE(sem.locked());
}
