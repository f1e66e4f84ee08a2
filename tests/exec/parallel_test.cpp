// run_parallel: n loops on n threads, cross-loop hand-off, servers sharing a port, failures
// and cancellation.
#include <aio/testing.hpp>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "exec/reuse_port_servers.hpp"

namespace {

aio::Task<long> spawn_and_sum(long n, long first, long step) {
  std::vector<aio::TaskHandle<long>> tasks;
  for (long i = first; i < n; i += step) {
    tasks.push_back(aio::create_task([](long i) -> aio::Task<long> {
      co_await aio::sleep(0);
      co_return i;
    }(i)));
  }
  long s = 0;
  for (long v : co_await aio::gather(tasks)) s += v;
  co_return s;
}

}  // namespace

TEST(exec_Parallel, EachShardHasItsOwnThreadAndLoop) {
  std::mutex m;
  std::set<std::thread::id> threads;
  std::set<aio::EventLoop*> loops;
  auto shards = aio::run_parallel(3, [&](int shard) -> aio::Task<int> {
    {
      std::lock_guard lock(m);
      threads.insert(std::this_thread::get_id());
      loops.insert(&aio::get_running_loop());
    }
    EXPECT_EQ(aio::current_shard(), shard);
    EXPECT_EQ(aio::shard_count(), 3);
    EXPECT_EQ(&aio::shard_loop(shard), &aio::get_running_loop());
    co_await aio::sleep(0.001);
    co_return shard * 10;
  });
  EXPECT_EQ(shards, (std::vector<int>{0, 10, 20}));
  EXPECT_EQ(threads.size(), 3u);
  EXPECT_TRUE(threads.contains(std::this_thread::get_id()));  // shard 0 runs on the caller
  EXPECT_EQ(loops.size(), 3u);
  EXPECT_EQ(aio::current_shard(), -1);
  EXPECT_THROW(aio::shard_loop(0), std::runtime_error);
}

TEST(exec_Parallel, SpawnWorkloadSplitOverTwoLoops) {
  long n = 20000;
  auto sums = aio::run_parallel(2, [n](int shard) { return spawn_and_sum(n, shard, 2); });
  EXPECT_EQ(sums[0] + sums[1], n * (n - 1) / 2);
}

TEST(exec_Parallel, VoidShards) {
  std::atomic<int> ran{0};
  aio::run_parallel(4, [&ran](int) -> aio::Task<> {
    co_await aio::sleep(0);
    ran.fetch_add(1);
  });
  EXPECT_EQ(ran.load(), 4);
}

TEST(exec_Parallel, CrossLoopHandOffThroughRunCoroutineThreadsafe) {
  auto results = aio::run_parallel(2, [](int shard) -> aio::Task<int> {
    if (shard == 1) co_return -1;  // its loop keeps serving until shard 0 is done
    int total = 0;
    for (int i = 0; i < 10; ++i) {
      auto f = aio::run_coroutine_threadsafe([](int i) -> aio::Task<int> {
        co_await aio::sleep(0);
        co_return aio::current_shard() * 100 + i;  // runs on shard 1
      }(i), aio::shard_loop(1));
      total += co_await aio::wrap_future(std::move(f));
    }
    co_return total;
  });
  EXPECT_EQ(results[0], 100 * 10 + 45);
}

TEST(exec_Parallel, ServersOnSeveralLoopsShareAPortThroughReusePort) {
  // Connect until every loop has answered at least once: the kernel spreads connections by a
  // hash of their addresses, so 3000 connections all landing on one of 3 loops does not happen.
  constexpr int kShards = 3;
  constexpr int kAtMost = 3000;
  reuse_port_servers::Tally tally = reuse_port_servers::run(kShards, 50, kAtMost);
  EXPECT_GE(tally.requests, 50);
  EXPECT_EQ(tally.answered, tally.requests) << "wrong or missing replies";
  for (int k = 0; k < kShards; ++k)
    EXPECT_GT(tally.answered_by[k], 0) << "loop " << k << " answered none of " << tally.requests << " connections";
  EXPECT_EQ(tally.served, tally.answered_by) << "the loops' own counts differ from what the clients saw";
}

TEST(exec_Parallel, AFailingShardCancelsTheOthers) {
  std::atomic<bool> other_cancelled{false};
  try {
    aio::run_parallel(3, [&](int shard) -> aio::Task<> {
      if (shard == 2) {
        co_await aio::sleep(0.01);
        throw std::logic_error("shard 2 failed");
      }
      try {
        co_await aio::sleep(3600);
      } catch (const aio::CancelledError&) {
        other_cancelled = true;
        throw;
      }
    });
    ADD_FAILURE() << "no exception";
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(), "shard 2 failed");
  }
  EXPECT_TRUE(other_cancelled.load());
}

TEST(exec_Parallel, SeveralFailuresMakeAnExceptionGroup) {
  try {
    aio::run_parallel(2, [](int shard) -> aio::Task<> {
      co_await aio::sleep(0);
      throw std::runtime_error("shard " + std::to_string(shard));
    });
    ADD_FAILURE() << "no exception";
  } catch (const aio::ExceptionGroup& g) {
    EXPECT_EQ(g.exceptions().size(), 2u);
  } catch (const std::runtime_error&) {
    // one shard may fail before the other got the chance: then it was cancelled instead
  }
}

TEST(exec_Parallel, RejectsBadArguments) {
  EXPECT_THROW(aio::run_parallel(0, [](int) -> aio::Task<> { co_return; }), std::invalid_argument);
  aio::run([]() -> aio::Task<> {
    EXPECT_THROW(aio::run_parallel(2, [](int) -> aio::Task<> { co_return; }), std::runtime_error);
    co_return;
  }());
}

TEST(exec_Parallel, ExecutorsInsideShards) {
  auto r = aio::run_parallel(2, [](int shard) -> aio::Task<long> {
    long s = 0;
    for (int i = 0; i < 50; ++i) s += co_await aio::to_thread([shard, i] { return long(shard + i); });
    co_return s;
  });
  EXPECT_EQ(r[0], 1225);
  EXPECT_EQ(r[1], 1275);
}

TEST(exec_Parallel, SigintCancelsEveryShardAndRaisesKeyboardInterrupt) {
  // A shell's background job starts with SIGINT ignored, and run() then leaves it alone.
  struct sigaction dfl {}, saved {};
  dfl.sa_handler = SIG_DFL;
  ::sigaction(SIGINT, &dfl, &saved);
  std::atomic<int> cancelled{0};
  try {
    aio::run_parallel(2, [&cancelled](int shard) -> aio::Task<> {
      if (shard == 1) {
        co_await aio::sleep(0.02);
        ::kill(::getpid(), SIGINT);  // handled by shard 0's run(), on the calling (main) thread
      }
      try {
        co_await aio::sleep(3600);
      } catch (const aio::CancelledError&) {
        cancelled.fetch_add(1);
        throw;
      }
    });
    ADD_FAILURE() << "no KeyboardInterrupt";
  } catch (const aio::KeyboardInterrupt&) {
  }
  ::sigaction(SIGINT, &saved, nullptr);
  EXPECT_EQ(cancelled.load(), 2);
}
