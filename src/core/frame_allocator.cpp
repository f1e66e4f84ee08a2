#include "aio/core/detail/frame_allocator.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace aio::detail {

namespace {
constexpr std::size_t kBlockBytes = std::size_t{1} << 20;

/// Every block ever carved stays reachable from here: frames may move between threads'
/// free lists, so no thread owns a block, and leak checkers see them as still in use.
struct BlockRegistry {
  std::mutex mutex;
  std::vector<void*> blocks;
};
BlockRegistry& registry() {
  static auto* r = new BlockRegistry;  // never destroyed: frames may be freed during exit
  return *r;
}
}  // namespace

void FrameAllocator::refill(Cache& c) {
  // The tail of the old block goes to the free lists so no byte is wasted.
  while (static_cast<std::size_t>(c.end - c.next) >= kGranule) {
    std::size_t cls = std::min<std::size_t>((c.end - c.next) / kGranule, kClasses - 1);
    auto* f = reinterpret_cast<FreeFrame*>(c.next);
    f->next = c.free[cls];
    c.free[cls] = f;
    c.next += cls * kGranule;
  }
  // MAP_POPULATE faults the whole block in with one call: touching fresh pages one by
  // one costs a trap each, which is most of the price of a million new frames.
  void* block = ::mmap(nullptr, kBlockBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (block == MAP_FAILED) throw std::bad_alloc();
  {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    r.blocks.push_back(block);
  }
  c.next = static_cast<char*>(block);
  c.end = c.next + kBlockBytes;
}

}  // namespace aio::detail
