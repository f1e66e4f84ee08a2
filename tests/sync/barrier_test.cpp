// aio::Barrier: CPython's BarrierTests (Lib/test/test_asyncio/test_locks.py).
#include <aio/sync.hpp>

#include <algorithm>
#include <vector>

#include "sync_helpers.hpp"

using sync_test::repr;
using sync_test::tick;

namespace {
constexpr int N = 5;

template <class F>
std::vector<aio::TaskHandle<>> make_tasks(int n, F& coro) {
  std::vector<aio::TaskHandle<>> tasks;
  for (int i = 0; i < n; ++i) tasks.push_back(aio::create_task(coro()));
  return tasks;
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
  auto wait = [&]() -> aio::Task<int> { co_return co_await barrier.wait(); };
  auto t1 = aio::create_task(wait());
  co_await tick();
  EXPECT_EQ(barrier.n_waiting(), 0);
  auto t2 = aio::create_task(wait());
  co_await tick();
  EXPECT_EQ(t1.result(), t2.result());
  EXPECT_EQ(t1.done(), t2.done());
  EXPECT_EQ(barrier.n_waiting(), 0);
}

AIO_TEST(Barrier, FillingTaskByTask) {
  aio::Barrier barrier(3);
  auto wait = [&]() -> aio::Task<int> { co_return co_await barrier.wait(); };
  auto t1 = aio::create_task(wait());
  co_await tick();
  EXPECT_EQ(barrier.n_waiting(), 1);
  auto t2 = aio::create_task(wait());
  co_await tick();
  EXPECT_EQ(barrier.n_waiting(), 2);
  auto t3 = aio::create_task(wait());
  co_await tick();
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
  auto t1 = aio::create_task(coro());
  co_await tick();
  EXPECT_EQ(barrier.n_waiting(), 1);
  auto t2 = aio::create_task(coro());
  co_await tick();
  EXPECT_EQ(barrier.n_waiting(), 2);
  t1.cancel();
  co_await tick();
  EXPECT_EQ(barrier.n_waiting(), 1);  // the cancelled task left the count
  bool cancelled = false;
  try {
    co_await t1;
  } catch (const aio::CancelledError&) {
    cancelled = true;
  }
  EXPECT_TRUE(cancelled && t1.cancelled());
  auto t3 = aio::create_task(coro());
  co_await tick();
  EXPECT_EQ(barrier.n_waiting(), 2);
  auto t4 = aio::create_task(coro());
  co_await aio::gather(t2, t3, t4);
  EXPECT_EQ(results.size(), 3u);
  EXPECT_EQ(barrier.n_waiting(), 0);
  EXPECT_FALSE(barrier.broken());
}

AIO_TEST(Barrier, ResetBarrier) {
  aio::Barrier barrier(1);
  auto reset = [&]() -> aio::Task<> { co_await barrier.reset(); };
  aio::create_task(reset());
  co_await tick();
  EXPECT_EQ(barrier.n_waiting(), 0);
  EXPECT_FALSE(barrier.broken());
}

AIO_TEST(Barrier, ResetWhileTasksWaiting) {
  aio::Barrier barrier(N);
  std::vector<bool> results;
  auto coro = [&]() -> aio::Task<> {
    try {
      co_await barrier.wait();
    } catch (const aio::BrokenBarrierError&) {
      results.push_back(true);
    }
  };
  auto tasks = make_tasks(N - 1, coro);
  co_await tick();
  auto reset = [&]() -> aio::Task<> { co_await barrier.reset(); };
  aio::create_task(reset());
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
  std::vector<bool> results1, results2;
  const int blocking_tasks = N / 2;
  int count = 0;
  auto coro = [&]() -> aio::Task<> {
    bool broken = false;
    try {
      co_await barrier.wait();
    } catch (const aio::BrokenBarrierError&) {
      broken = true;
    }
    if (broken) {
      results1.push_back(true);  // still waiting when reset: wait again to reach parties
      co_await barrier.wait();
      co_return;
    }
    if (++count > blocking_tasks) {
      co_await barrier.reset();  // BrokenBarrierError for the waiting tasks
      co_await barrier.wait();
    } else {
      bool broken2 = false;
      try {
        co_await barrier.wait();
      } catch (const aio::BrokenBarrierError&) {
        broken2 = true;
      }
      if (broken2) results2.push_back(true);
    }
  };
  co_await aio::gather(make_tasks(N, coro));
  EXPECT_EQ(results1.size(), std::size_t(blocking_tasks));
  EXPECT_TRUE(results2.empty());
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
  auto reset = [&]() -> aio::Task<> { co_await barrier.reset(); };
  aio::create_task(reset());
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
  auto abort = [&]() -> aio::Task<> { co_await barrier.abort(); };
  aio::create_task(abort());
  co_await tick();
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
  std::vector<bool> results1, results2;
  const int blocking_tasks = N / 2;
  int count = 0;
  auto coro = [&]() -> aio::Task<> {
    bool broken = false;
    try {
      co_await barrier.wait();
    } catch (const aio::BrokenBarrierError&) {
      broken = true;
    }
    if (broken) {
      results1.push_back(true);
      co_return;
    }
    if (++count > blocking_tasks) {
      co_await barrier.abort();  // BrokenBarrierError for every task
    } else {
      bool broken2 = false;
      try {
        co_await barrier.wait();
      } catch (const aio::BrokenBarrierError&) {
        broken2 = true;
      }
      if (broken2) results2.push_back(true);
    }
  };
  co_await aio::gather(make_tasks(N, coro));
  EXPECT_TRUE(barrier.broken());
  EXPECT_EQ(results1.size(), std::size_t(blocking_tasks));
  EXPECT_EQ(results2.size(), std::size_t(N - blocking_tasks - 1));
  EXPECT_EQ(barrier.n_waiting(), 0);
  EXPECT_EQ(repr(barrier).find("resetting"), std::string::npos);
}

AIO_TEST(Barrier, AbortWhenException) {
  aio::Barrier barrier(N);
  std::vector<bool> results1, results2;
  auto coro = [&]() -> aio::Task<> {
    bool failed = false;
    try {
      int i = co_await barrier.wait();
      if (i == N / 2) throw std::runtime_error("boom");
      co_await barrier.wait();
      results1.push_back(true);
    } catch (const aio::BrokenBarrierError&) {
      results2.push_back(true);
    } catch (const std::runtime_error&) {
      failed = true;
    }
    if (failed) co_await barrier.abort();
  };
  co_await aio::gather(make_tasks(N, coro));
  EXPECT_TRUE(barrier.broken());
  EXPECT_TRUE(results1.empty());
  EXPECT_EQ(results2.size(), std::size_t(N - 1));
  EXPECT_EQ(barrier.n_waiting(), 0);
}

AIO_TEST(Barrier, AbortWhenExceptionThenResetting) {
  aio::Barrier barrier1(N);
  aio::Barrier barrier2(N);
  std::vector<bool> results1, results2, results3;
  auto coro = [&]() -> aio::Task<> {
    bool failed = false;
    try {
      int i = co_await barrier1.wait();
      if (i == N / 2) throw std::runtime_error("boom");
      co_await barrier1.wait();
      results1.push_back(true);
    } catch (const aio::BrokenBarrierError&) {
      results2.push_back(true);
    } catch (const std::runtime_error&) {
      failed = true;
    }
    if (failed) co_await barrier1.abort();
    // synchronise, reset barrier1 (nobody inside), synchronise again, then pass it
    int i = co_await barrier2.wait();
    if (i == N / 2) co_await barrier1.reset();
    co_await barrier2.wait();
    co_await barrier1.wait();
    results3.push_back(true);
  };
  co_await aio::gather(make_tasks(N, coro));
  EXPECT_FALSE(barrier1.broken());
  EXPECT_TRUE(results1.empty());
  EXPECT_EQ(results2.size(), std::size_t(N - 1));
  EXPECT_EQ(results3.size(), std::size_t(N));
  EXPECT_EQ(barrier1.n_waiting(), 0);
}
