// Coroutine frames come from per-thread free lists of 16-byte size classes carved out of
// large blocks: no malloc header per frame and no trip through malloc's bins, which
// matters when a million small tasks live at once. Freed frames are reused, never
// returned to the OS (as Seastar and Tokio's slabs do). Sanitizer builds use plain
// operator new so that use-after-free in a frame is still caught.
#pragma once
#include <cstddef>
#include <new>

namespace aio::detail {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define AIO_PLAIN_FRAMES 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define AIO_PLAIN_FRAMES 1
#endif
#endif

class FrameAllocator {
 public:
  static constexpr std::size_t kGranule = 16;
  static constexpr std::size_t kClasses = 64;  // frames up to 1 KiB are pooled

  static void* allocate(std::size_t n) {
#ifdef AIO_PLAIN_FRAMES
    return ::operator new(n);
#else
    std::size_t cls = (n + kGranule - 1) / kGranule;
    if (cls >= kClasses) return ::operator new(n);
    Cache& c = cache;
    if (FreeFrame* f = c.free[cls]) {
      c.free[cls] = f->next;
      return f;
    }
    std::size_t bytes = cls * kGranule;
    if (static_cast<std::size_t>(c.end - c.next) < bytes) refill(c);
    void* p = c.next;
    c.next += bytes;
    return p;
#endif
  }

  static void deallocate(void* p, std::size_t n) noexcept {
#ifdef AIO_PLAIN_FRAMES
    (void)n;
    ::operator delete(p);
#else
    std::size_t cls = (n + kGranule - 1) / kGranule;
    if (cls >= kClasses) return ::operator delete(p);
    auto* f = static_cast<FreeFrame*>(p);
    f->next = cache.free[cls];
    cache.free[cls] = f;
#endif
  }

 private:
  struct FreeFrame {
    FreeFrame* next;
  };
  struct Cache {  // trivially destructible: no thread-exit hook
    FreeFrame* free[kClasses];
    char* next;
    char* end;
  };
  static void refill(Cache& c);
  static inline thread_local Cache cache{};
};

}  // namespace aio::detail
