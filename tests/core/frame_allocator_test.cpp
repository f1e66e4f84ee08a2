// The pooled frame allocator across threads: what a thread frees stays in the process when
// the thread exits, and the next thread short of frames reuses it (each frame once).
// Sanitizer builds allocate frames with plain operator new, so there is nothing to test there.
#include <aio/core/detail/frame_allocator.hpp>

#include <algorithm>
#include <latch>
#include <set>
#include <thread>
#include <vector>

#include "helpers.hpp"

#ifndef AIO_PLAIN_FRAMES

using aio::detail::FrameAllocator;

namespace {

aio::Task<long> after_a_yield(long i) {
  co_await aio::sleep(0);
  co_return i;
}

/// n tasks alive at once, each in its own frame; the sum of their results.
aio::Task<long> tasks_alive_at_once(long n) {
  std::vector<aio::TaskHandle<long>> tasks;
  for (long i = 0; i < n; ++i) tasks.push_back(aio::create_task(after_a_yield(i)));
  long sum = 0;
  for (auto& task : tasks) sum += co_await task;
  co_return sum;
}

}  // namespace

TEST(FrameAllocator, ThreadExitHandsItsFreeFramesToTheNextThread) {
  constexpr std::size_t kFrameBytes = 48;  // a size class no task of this test uses
  constexpr int kFrames = 1000;
  std::set<void*> freed_by_first;
  std::thread([&] {
    std::vector<void*> frames;
    for (int i = 0; i < kFrames; ++i) frames.push_back(FrameAllocator::allocate(kFrameBytes));
    for (void* f : frames) FrameAllocator::deallocate(f, kFrameBytes);
    freed_by_first.insert(frames.begin(), frames.end());
  }).join();
  ASSERT_EQ(freed_by_first.size(), std::size_t(kFrames));
  const std::size_t mapped_before = FrameAllocator::stats().mapped_bytes;

  std::vector<void*> taken_by_second;
  std::thread([&] {
    for (int i = 0; i < kFrames; ++i) taken_by_second.push_back(FrameAllocator::allocate(kFrameBytes));
    for (void* f : taken_by_second) FrameAllocator::deallocate(f, kFrameBytes);
  }).join();
  // Every frame again, and each once: nothing lost, nothing handed out twice.
  EXPECT_EQ(std::set<void*>(taken_by_second.begin(), taken_by_second.end()), freed_by_first);
  EXPECT_EQ(FrameAllocator::stats().mapped_bytes, mapped_before);
}

TEST(FrameAllocator, ThreadsRunningLoopsOneAfterAnotherReuseTheSameFrames) {
  constexpr long kTasks = 20000;  // all alive at once: a few blocks of frames
  auto run_on_a_new_thread = [] {
    long sum = -1;
    std::thread([&sum] { sum = aio::run(tasks_alive_at_once(kTasks)); }).join();
    EXPECT_EQ(sum, kTasks * (kTasks - 1) / 2);
  };
  const std::size_t at_start = FrameAllocator::stats().mapped_bytes;
  run_on_a_new_thread();
  const std::size_t after_one = FrameAllocator::stats().mapped_bytes;
  ASSERT_GT(after_one, at_start);
  for (int i = 0; i < 20; ++i) run_on_a_new_thread();
  const std::size_t after_all = FrameAllocator::stats().mapped_bytes;
  // Without reuse every thread maps as much as the first one did.
  EXPECT_LE(after_all - after_one, (after_one - at_start) / 4)
      << "20 threads mapped " << (after_all - after_one) << " bytes more after the first mapped " << (after_one - at_start);
}

TEST(FrameAllocator, ThreadsCarvingNewBlocksAtOnceGetDistinctFrames) {
  constexpr std::size_t kFrameBytes = 1008;  // the largest pooled class: few frames per block
  constexpr int kFrames = 6000;              // ~6 MiB a thread: several fresh blocks each
  std::latch start(2);
  std::vector<void*> frames[2];
  auto carve = [&](std::vector<void*>& mine) {
    start.arrive_and_wait();
    for (int i = 0; i < kFrames; ++i) {
      auto* f = static_cast<char*>(FrameAllocator::allocate(kFrameBytes));
      f[0] = f[kFrameBytes - 1] = 1;  // populated and writable
      mine.push_back(f);
    }
  };
  std::thread a(carve, std::ref(frames[0])), b(carve, std::ref(frames[1]));
  a.join();
  b.join();
  std::set<char*> all;
  for (auto& mine : frames)
    for (void* f : mine) all.insert(static_cast<char*>(f));
  ASSERT_EQ(all.size(), std::size_t(2 * kFrames));
  // No two frames overlap.
  for (auto it = all.begin(); std::next(it) != all.end(); ++it) ASSERT_GE(*std::next(it) - *it, std::ptrdiff_t(kFrameBytes));
  for (auto& mine : frames)
    for (void* f : mine) FrameAllocator::deallocate(f, kFrameBytes);
}

#endif  // AIO_PLAIN_FRAMES
