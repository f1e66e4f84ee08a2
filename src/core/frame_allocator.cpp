#include "aio/core/detail/frame_allocator.hpp"

#include <pthread.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <system_error>
#include <utility>
#include <vector>

namespace aio::detail {

namespace {
constexpr std::size_t kBlockBytes = std::size_t{1} << 20;
}  // namespace

/// What every thread shares: the blocks, and what exited threads left for the others.
struct FrameAllocator::Pool {
  std::mutex mutex;
  /// Every block ever mapped stays reachable from here: frames move between threads'
  /// free lists, so no thread owns a block, and leak checkers see them as still in use.
  std::vector<void*> blocks;
  /// The free lists of exited threads, whole (a thread short of frames of a class takes one).
  std::vector<FreeFrame*> orphaned_lists[kClasses];
  /// The uncarved rests of exited threads' blocks.
  std::vector<std::pair<char*, char*>> orphaned_rests;
  pthread_key_t thread_exit_key{};

  Pool() {
    // A key's destructor runs after the thread's C++ thread_local destructors, which may
    // still free frames (a loop kept in a thread_local, say).
    if (int err = ::pthread_key_create(&thread_exit_key, &FrameAllocator::release_thread_cache))
      throw std::system_error(err, std::generic_category(), "pthread_key_create");
  }
};

FrameAllocator::Pool& FrameAllocator::pool() {
  static auto* p = new Pool;  // never destroyed: frames may be freed during exit
  return *p;
}

void FrameAllocator::enroll(Cache& c) {
  c.enrolled = true;
  ::pthread_setspecific(pool().thread_exit_key, &c);
}

void FrameAllocator::release_thread_cache(void* cache_of_exiting_thread) noexcept {
  Cache& c = *static_cast<Cache*>(cache_of_exiting_thread);
  Pool& p = pool();
  {
    std::lock_guard lock(p.mutex);
    for (std::size_t cls = 1; cls < kClasses; ++cls)
      if (c.free[cls]) p.orphaned_lists[cls].push_back(c.free[cls]);
    if (c.next != c.end) p.orphaned_rests.emplace_back(c.next, c.end);
  }
  // Not enrolled any more: a frame freed after this (by another key's destructor) enrolls
  // the thread again, and the C library then runs this once more.
  c = Cache{};
}

void* FrameAllocator::allocate_slow(std::size_t cls) {
  Cache& c = cache;
  if (!c.enrolled) enroll(c);
  const std::size_t bytes = cls * kGranule;
  Pool& p = pool();
  std::unique_lock lock(p.mutex);
  if (auto& lists = p.orphaned_lists[cls]; !lists.empty()) {
    FreeFrame* f = lists.back();
    lists.pop_back();
    c.free[cls] = f->next;
    return f;
  }
  // The rest of the old block goes to the free lists so no byte is wasted.
  while (static_cast<std::size_t>(c.end - c.next) >= kGranule) {
    std::size_t rest_cls = std::min<std::size_t>((c.end - c.next) / kGranule, kClasses - 1);
    auto* f = reinterpret_cast<FreeFrame*>(c.next);
    f->next = c.free[rest_cls];
    c.free[rest_cls] = f;
    c.next += rest_cls * kGranule;
  }
  auto& rests = p.orphaned_rests;
  auto fits = std::find_if(rests.begin(), rests.end(), [bytes](const auto& r) { return std::size_t(r.second - r.first) >= bytes; });
  if (fits != rests.end()) {
    std::tie(c.next, c.end) = *fits;
    rests.erase(fits);
  } else {
    lock.unlock();
    // MAP_POPULATE faults the whole block in with one call: touching fresh pages one by
    // one costs a trap each, which is most of the price of a million new frames.
    void* block = ::mmap(nullptr, kBlockBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (block == MAP_FAILED) throw std::bad_alloc();
    lock.lock();
    p.blocks.push_back(block);
    c.next = static_cast<char*>(block);
    c.end = c.next + kBlockBytes;
  }
  void* frame = c.next;
  c.next += bytes;
  return frame;
}

FrameAllocator::Stats FrameAllocator::stats() {
  Pool& p = pool();
  std::lock_guard lock(p.mutex);
  Stats s;
  s.mapped_bytes = p.blocks.size() * kBlockBytes;
  s.orphaned_lists = p.orphaned_rests.size();
  for (const auto& lists : p.orphaned_lists) s.orphaned_lists += lists.size();
  return s;
}

}  // namespace aio::detail
