// aio::Barrier: CPython's BarrierTests (Lib/test/test_asyncio/test_locks.py).
#include <aio/sync.hpp>

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "sync_helpers.hpp"

using sync_test::repr;
using sync_test::throws;
using sync_test::tick;

namespace {
constexpr int N = 5;

template <class F>
std::vector<aio::TaskHandle<>> make_tasks(int n, F& coro) {
  std::vector<aio::TaskHandle<>> tasks;
  for (int i = 0; i < n; ++i) tasks.push_back(aio::create_task(coro()));
  return tasks;
}

aio::Task<int> wait_at(aio::Barrier& barrier) { co_return co_await barrier.wait(); }

/// Starts `work` as a task and lets every ready task run once: it gets to the barrier (or through).
template <class T>
aio::Task<aio::TaskHandle<T>> start(aio::Task<T> work) {
  auto task = aio::create_task(std::move(work));
  co_await tick();
  co_return task;
}

/// Waits at the barrier: true when it raised BrokenBarrierError, false when it let us pass.
aio::Task<bool> wait_broken(aio::Barrier& barrier) {
  try {
    co_await barrier.wait();
  } catch (const aio::BrokenBarrierError&) {
    co_return true;
  }
  co_return false;
}

enum class Ending { reset, abort };
/// How many tasks a barrier broke at their first and at their second wait.
struct BrokenCounts {
  std::size_t first = 0;
  std::size_t second = 0;
};

/// CPython's test_{reset,abort}_barrier_when_tasks_half_draining_half_blocking: N tasks
/// pass the barrier; the first N / 2 out wait at it again, the others reset or abort it.
aio::Task<BrokenCounts> half_draining_half_blocking(aio::Barrier& barrier, Ending ending) {
  BrokenCounts broken;
  const int blocking_tasks = N / 2;
  int count = 0;
  auto coro = [&]() -> aio::Task<> {
    const bool broken_at_first = co_await wait_broken(barrier);
    if (broken_at_first) {
      ++broken.first;
      if (ending == Ending::reset) co_await barrier.wait();  // still waiting when reset: wait again to reach parties
      co_return;
    }
    if (++count > blocking_tasks) {
      if (ending == Ending::abort) {
        co_await barrier.abort();  // BrokenBarrierError for every task
      } else {
        co_await barrier.reset();  // BrokenBarrierError for the waiting tasks
        co_await barrier.wait();
      }
      co_return;
    }
    const bool broken_at_second = co_await wait_broken(barrier);
    if (broken_at_second) ++broken.second;
  };
  co_await aio::gather(make_tasks(N, coro));
  co_return broken;
}

/// How many tasks passed a barrier twice, and how many it broke.
struct PassCounts {
  std::size_t passed = 0;
  std::size_t broken = 0;
};

/// CPython's test_abort_barrier_when_exception: of the tasks passing the barrier, the one
/// with index N / 2 fails before waiting again and aborts the barrier for the others.
aio::Task<> pass_twice_or_abort(aio::Barrier& barrier, PassCounts& counts) {
  bool failed = false;
  try {
    int i = co_await barrier.wait();
    if (i == N / 2) throw std::runtime_error("boom");
    co_await barrier.wait();
    ++counts.passed;
  } catch (const aio::BrokenBarrierError&) {
    ++counts.broken;
  } catch (const std::runtime_error&) {
    failed = true;
  }
  if (failed) co_await barrier.abort();
}
}  // namespace

AIO_TEST(Barrier, Repr) {
  aio::Barrier barrier(N);
  EXPECT_EQ(repr(barrier), "<Barrier [filling, waiters:0/5]>");
  std::vector<aio::TaskHandle<>> waiters;
  auto wait = [&]() -> aio::Task<> { co_await barrier.wait(); };
  for (int i = 0; i < 2; ++i) waiters.push_back(aio::create_task(wait()));
  co_await tick();
  EXPECT_EQ(repr(barrier), "<Barrier [filling, waiters:2/5]>");
  for (int i = 0; i < barrier.parties() - barrier.n_waiting(); ++i) waiters.push_back(aio::create_task(wait()));
  co_await tick();
  EXPECT_EQ(repr(barrier), "<Barrier [draining, waiters:0/5]>");
  for (int i = 0; i < 2; ++i) waiters.push_back(aio::create_task(wait()));
  co_await tick();
  co_await barrier.reset();
  EXPECT_EQ(repr(barrier), "<Barrier [resetting, waiters:0/5]>");
  for (int i = 0; i < 2; ++i) waiters.push_back(aio::create_task(wait()));
  co_await tick();
  co_await barrier.abort();
  EXPECT_EQ(repr(barrier), "<Barrier [broken]>");
  EXPECT_TRUE(barrier.broken());
  co_await aio::gather(aio::return_exceptions, waiters);
}

TEST(Barrier, Parties) {
  EXPECT_THROW(aio::Barrier(0), std::invalid_argument);
  EXPECT_THROW(aio::Barrier(-4), std::invalid_argument);
  EXPECT_EQ(aio::Barrier(N).parties(), N);
}

AIO_TEST(Barrier, Indexes) {
  aio::Barrier barrier(3);
  std::vector<int> results;
  auto coro = [&]() -> aio::Task<> { results.push_back(co_await barrier.wait()); };
  co_await aio::gather(make_tasks(3, coro));
  std::sort(results.begin(), results.end());
  EXPECT_EQ(results, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(barrier.n_waiting(), 0);
  EXPECT_FALSE(barrier.broken());
}

AIO_TEST(Barrier, FillingOneTask) {
  aio::Barrier barrier(1);
  EXPECT_EQ(co_await barrier.wait(), 0);
  EXPECT_EQ(barrier.n_waiting(), 0);
  EXPECT_FALSE(barrier.broken());
}

AIO_TEST(Barrier, FillingOneTaskTwice) {
  aio::Barrier barrier(1);
  auto t1 = co_await start(wait_at(barrier));
  EXPECT_EQ(barrier.n_waiting(), 0);
  auto t2 = co_await start(wait_at(barrier));
  EXPECT_EQ(t1.result(), t2.result());
  EXPECT_EQ(t1.done(), t2.done());
  EXPECT_EQ(barrier.n_waiting(), 0);
}

AIO_TEST(Barrier, FillingTaskByTask) {
  aio::Barrier barrier(3);
  auto t1 = co_await start(wait_at(barrier));
  EXPECT_EQ(barrier.n_waiting(), 1);
  auto t2 = co_await start(wait_at(barrier));
  EXPECT_EQ(barrier.n_waiting(), 2);
  auto t3 = co_await start(wait_at(barrier));
  co_await aio::gather(t1, t2, t3);
  EXPECT_EQ(barrier.n_waiting(), 0);
  EXPECT_FALSE(barrier.broken());
}

AIO_TEST(Barrier, FillingTasksWaitTwice) {
  aio::Barrier barrier(N);
  std::vector<bool> results;
  auto coro = [&]() -> aio::Task<> {
    co_await barrier.wait();
    results.push_back(true);
    co_await barrier.wait();
    results.push_back(false);
  };
  co_await aio::gather(make_tasks(N, coro));
  EXPECT_EQ(results.size(), std::size_t(2 * N));
  EXPECT_EQ(std::count(results.begin(), results.end(), true), N);
  EXPECT_EQ(barrier.n_waiting(), 0);
}

AIO_TEST(Barrier, DrainingState) {
  aio::Barrier barrier(N);
  std::vector<bool> results;
  auto coro = [&]() -> aio::Task<> {
    co_await barrier.wait();
    // draining until the last task has left the barrier
    results.push_back(repr(barrier).find("draining") != std::string::npos);
  };
  co_await aio::gather(make_tasks(N, coro));
  EXPECT_EQ(results.size(), std::size_t(N));
  EXPECT_FALSE(results.back());
  EXPECT_TRUE(std::all_of(results.begin(), results.end() - 1, [](bool b) { return b; }));
}

AIO_TEST(Barrier, BlockingTasksWhileDraining) {
  int rewait_n = 2;
  aio::Barrier barrier(N);
  aio::Barrier barrier_nowaiting(N - rewait_n);
  auto coro = [&]() -> aio::Task<> {
    co_await barrier.wait();
    if (rewait_n > 0) {
      --rewait_n;
      co_await barrier.wait();  // waits again, only for the rewaiting tasks
    } else {
      co_await barrier_nowaiting.wait();  // the end of draining
      co_await barrier.wait();
    }
  };
  co_await aio::gather(make_tasks(N, coro));  // completes: N - rewait waited exactly once
  EXPECT_EQ(barrier.n_waiting(), 0);
}

AIO_TEST(Barrier, FillingTasksCancelOne) {
  aio::Barrier barrier(3);
  std::vector<bool> results;
  auto coro = [&]() -> aio::Task<> {
    co_await barrier.wait();
    results.push_back(true);
  };
  auto t1 = co_await start(coro());
  EXPECT_EQ(barrier.n_waiting(), 1);
  auto t2 = co_await start(coro());
  EXPECT_EQ(barrier.n_waiting(), 2);
  t1.cancel();
  co_await tick();
  EXPECT_EQ(barrier.n_waiting(), 1);  // the cancelled task left the count
  bool cancelled = co_await throws<aio::CancelledError>([&] { return t1; });
  EXPECT_TRUE(cancelled && t1.cancelled());
  auto t3 = co_await start(coro());
  EXPECT_EQ(barrier.n_waiting(), 2);
  auto t4 = aio::create_task(coro());
  co_await aio::gather(t2, t3, t4);
  EXPECT_EQ(results.size(), 3u);
  EXPECT_EQ(barrier.n_waiting(), 0);
  EXPECT_FALSE(barrier.broken());
}

AIO_TEST(Barrier, ResetBarrier) {
  aio::Barrier barrier(1);
  co_await start(barrier.reset());
  EXPECT_EQ(barrier.n_waiting(), 0);
  EXPECT_FALSE(barrier.broken());
}

AIO_TEST(Barrier, ResetWhileTasksWaiting) {
  aio::Barrier barrier(N);
  std::vector<bool> results;
  auto coro = [&]() -> aio::Task<> {
    const bool broken = co_await wait_broken(barrier);
    if (broken) results.push_back(true);
  };
  auto tasks = make_tasks(N - 1, coro);
  co_await tick();
  aio::create_task(barrier.reset());
  co_await aio::gather(tasks);
  EXPECT_EQ(results.size(), std::size_t(N - 1));
  EXPECT_EQ(barrier.n_waiting(), 0);
  EXPECT_EQ(repr(barrier).find("resetting"), std::string::npos);
  EXPECT_FALSE(barrier.broken());
}

AIO_TEST(Barrier, ResetWhenTasksHalfDraining) {
  aio::Barrier barrier(N);
  std::vector<bool> results1;
  const int rest_of_tasks = N / 2;
  int passed = 0;
  auto coro = [&]() -> aio::Task<> {
    bool broken = false;
    try {
      co_await barrier.wait();
    } catch (const aio::BrokenBarrierError&) {
      broken = true;
      results1.push_back(true);
    }
    // drained tasks: once rest_of_tasks are still inside the barrier, reset it
    if (!broken && ++passed == N - rest_of_tasks) co_await barrier.reset();
  };
  co_await aio::gather(make_tasks(N, coro));
  // the reset comes while rest_of_tasks are still inside (woken, not yet out): they break
  EXPECT_EQ(results1.size(), std::size_t(rest_of_tasks));
  EXPECT_EQ(barrier.n_waiting(), 0);
  EXPECT_EQ(repr(barrier).find("resetting"), std::string::npos);
  EXPECT_FALSE(barrier.broken());
}

AIO_TEST(Barrier, ResetWhenTasksHalfDrainingHalfBlocking) {
  aio::Barrier barrier(N);
  auto broken = co_await half_draining_half_blocking(barrier, Ending::reset);
  EXPECT_EQ(broken.first, std::size_t(N / 2));
  EXPECT_EQ(broken.second, 0u);
  EXPECT_EQ(barrier.n_waiting(), 0);
  EXPECT_FALSE(barrier.broken());
}

AIO_TEST(Barrier, ResetWhileTasksWaitingAndWaitingAgain) {
  aio::Barrier barrier(N);
  std::vector<bool> results1, results2;
  auto coro1 = [&]() -> aio::Task<> {
    try {
      co_await barrier.wait();
    } catch (const aio::BrokenBarrierError&) {
      results1.push_back(true);
    }
    co_await barrier.wait();
    results2.push_back(true);
  };
  auto coro2 = [&]() -> aio::Task<> {
    co_await barrier.wait();
    results2.push_back(true);
  };
  auto tasks = make_tasks(N - 1, coro1);
  aio::create_task(barrier.reset());
  co_await tick();
  aio::create_task(coro2());
  co_await aio::gather(tasks);
  EXPECT_FALSE(barrier.broken());
  EXPECT_EQ(results1.size(), std::size_t(N - 1));
  EXPECT_EQ(results2.size(), std::size_t(N));
  EXPECT_EQ(barrier.n_waiting(), 0);
}

AIO_TEST(Barrier, ResetWhileTasksDraining) {
  aio::Barrier barrier(N);
  std::vector<bool> results1, results2, results3;
  int count = 0;
  auto coro = [&]() -> aio::Task<> {
    co_await barrier.wait();
    if (++count == N) {
      co_await barrier.reset();  // the last task out resets, then waits to reach parties
      co_await barrier.wait();
    } else {
      try {
        co_await barrier.wait();
        results1.push_back(true);
      } catch (const std::exception&) {
        results2.push_back(true);
      }
    }
    co_await barrier.wait();
    results3.push_back(true);
  };
  co_await aio::gather(make_tasks(N, coro));
  EXPECT_FALSE(barrier.broken());
  EXPECT_EQ(results1.size(), std::size_t(N - 1));
  EXPECT_TRUE(results2.empty());
  EXPECT_EQ(results3.size(), std::size_t(N));
  EXPECT_EQ(barrier.n_waiting(), 0);
}

AIO_TEST(Barrier, AbortBarrier) {
  aio::Barrier barrier(1);
  co_await start(barrier.abort());
  EXPECT_EQ(barrier.n_waiting(), 0);
  EXPECT_TRUE(barrier.broken());
  bool broken = false;
  try {
    co_await barrier.wait();
  } catch (const aio::BrokenBarrierError& e) {
    broken = std::string(e.what()) == "Barrier aborted";
  }
  EXPECT_TRUE(broken);
}

AIO_TEST(Barrier, AbortWhenTasksHalfDrainingHalfBlocking) {
  aio::Barrier barrier(N);
  auto broken = co_await half_draining_half_blocking(barrier, Ending::abort);
  EXPECT_TRUE(barrier.broken());
  EXPECT_EQ(broken.first, std::size_t(N / 2));
  EXPECT_EQ(broken.second, std::size_t(N - N / 2 - 1));
  EXPECT_EQ(barrier.n_waiting(), 0);
  EXPECT_EQ(repr(barrier).find("resetting"), std::string::npos);
}

AIO_TEST(Barrier, AbortWhenException) {
  aio::Barrier barrier(N);
  PassCounts counts;
  auto coro = [&]() -> aio::Task<> { co_await pass_twice_or_abort(barrier, counts); };
  co_await aio::gather(make_tasks(N, coro));
  EXPECT_TRUE(barrier.broken());
  EXPECT_EQ(counts.passed, 0u);
  EXPECT_EQ(counts.broken, std::size_t(N - 1));
  EXPECT_EQ(barrier.n_waiting(), 0);
}

AIO_TEST(Barrier, AbortWhenExceptionThenResetting) {
  aio::Barrier barrier1(N);
  aio::Barrier barrier2(N);
  PassCounts counts;
  std::size_t passed_after_reset = 0;
  auto coro = [&]() -> aio::Task<> {
    co_await pass_twice_or_abort(barrier1, counts);
    // synchronise, reset barrier1 (nobody inside), synchronise again, then pass it
    int i = co_await barrier2.wait();
    if (i == N / 2) co_await barrier1.reset();
    co_await barrier2.wait();
    co_await barrier1.wait();
    ++passed_after_reset;
  };
  co_await aio::gather(make_tasks(N, coro));
  EXPECT_FALSE(barrier1.broken());
  EXPECT_EQ(counts.passed, 0u);
  EXPECT_EQ(counts.broken, std::size_t(N - 1));
  EXPECT_EQ(passed_after_reset, std::size_t(N));
  EXPECT_EQ(barrier1.n_waiting(), 0);
}
