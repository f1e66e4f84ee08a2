// Coroutine frames come from per-thread free lists of 16-byte size classes carved out of
// large blocks: no malloc header per frame and no trip through malloc's bins, which
// matters when a million small tasks live at once. Freed frames are reused, never
// returned to the OS (as Seastar and Tokio's slabs do): when a thread exits, its free
// lists and the uncarved rest of its block go to a process-wide pool that the next thread
// short of frames takes them from. Sanitizer builds use plain operator new so that
// use-after-free in a frame is still caught.
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
    if (static_cast<std::size_t>(c.end - c.next) < bytes) return allocate_slow(cls);
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
    Cache& c = cache;
    if (!c.enrolled) [[unlikely]] enroll(c);  // a thread may free frames it never allocated
    auto* f = static_cast<FreeFrame*>(p);
    f->next = c.free[cls];
    c.free[cls] = f;
#endif
  }

  /// What the pool holds, for tests and benchmarks.
  struct Stats {
    std::size_t mapped_bytes = 0;    ///< memory mapped for frames since the process started
    std::size_t orphaned_lists = 0;  ///< free lists and block rests left by exited threads, not yet taken
  };
  static Stats stats();

 private:
  struct FreeFrame {
    FreeFrame* next;
  };
  struct Cache {  // trivially destructible: a pthread key, not a C++ destructor, empties it at thread exit
    FreeFrame* free[kClasses];
    char* next;  // the uncarved rest of the current block
    char* end;
    bool enrolled;  // the thread-exit hook is registered
  };
  struct Pool;
  static Pool& pool();
  static void* allocate_slow(std::size_t cls);
  static void enroll(Cache& c);
  static void release_thread_cache(void* cache) noexcept;
  static inline thread_local Cache cache{};
};

}  // namespace aio::detail
