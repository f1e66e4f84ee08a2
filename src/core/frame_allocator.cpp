#include "aio/core/detail/frame_allocator.hpp"

#include <pthread.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <system_error>
#include <utility>
#include <vector>

namespace aio::detail {

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux 5.14; older C libraries lack the name
#endif

namespace {
/// A thread carves its frames from one block at a time. 2 MiB, aligned: the page-table page
/// of a block is the populating thread's alone.
constexpr std::size_t kBlockBytes = std::size_t{2} << 20;
/// Blocks are cut from reservations of address space this large, mapped without memory.
constexpr std::size_t kReservationBytes = std::size_t{128} << 20;

/// Faults a fresh block in with one call: touching fresh pages one by one costs a trap
/// each, which is most of the price of a million new frames. MADV_POPULATE_WRITE holds the
/// address-space lock for reading only, so threads populate their blocks side by side;
/// mmap(MAP_POPULATE) per block took it for writing and made them take turns.
void populate(char* block) {
  if (::madvise(block, kBlockBytes, MADV_POPULATE_WRITE) == 0) return;
  if (errno == ENOMEM || errno == EFAULT || errno == EHWPOISON) throw std::bad_alloc();
  // EINVAL (a kernel before 5.14): the pages fault in as the frames are carved.
}
}  // namespace

/// What every thread shares: the blocks, and what exited threads left for the others.
struct FrameAllocator::Pool {
  std::mutex mutex;
  /// Every reservation ever mapped stays reachable from here: frames move between threads'
  /// free lists, so no thread owns a block, and leak checkers see them as still in use.
  std::vector<void*> reservations;
  /// The part of the newest reservation not yet handed out as blocks.
  char* reserved_next = nullptr;
  char* reserved_end = nullptr;
  std::size_t blocks_taken = 0;
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
    if (p.reserved_next == p.reserved_end) {
      // One spare block's worth more than needed, to align the reservation to a block.
      void* r = ::mmap(nullptr, kReservationBytes + kBlockBytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (r == MAP_FAILED) throw std::bad_alloc();
      p.reservations.push_back(r);
      auto first = (reinterpret_cast<std::uintptr_t>(r) + kBlockBytes - 1) & ~(kBlockBytes - 1);
      p.reserved_next = reinterpret_cast<char*>(first);
      p.reserved_end = p.reserved_next + kReservationBytes;
    }
    char* block = p.reserved_next;
    p.reserved_next += kBlockBytes;
    ++p.blocks_taken;
    lock.unlock();
    populate(block);
    c.next = block;
    c.end = block + kBlockBytes;
  }
  void* frame = c.next;
  c.next += bytes;
  return frame;
}

FrameAllocator::Stats FrameAllocator::stats() {
  Pool& p = pool();
  std::lock_guard lock(p.mutex);
  Stats s;
  s.mapped_bytes = p.blocks_taken * kBlockBytes;
  s.orphaned_lists = p.orphaned_rests.size();
  for (const auto& lists : p.orphaned_lists) s.orphaned_lists += lists.size();
  return s;
}

}  // namespace aio::detail
