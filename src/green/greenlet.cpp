// Greenlet switching on Boost.Context's raw fcontext API (jump_fcontext/make_fcontext): the
// fiber wrapper would add a move and a check per switch, and we need our own stack management.
#include "aio/green/greenlet.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <boost/context/detail/fcontext.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cxxabi.h>
#include <stdexcept>

#include "aio/core/errors.hpp"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AIO_GREEN_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define AIO_GREEN_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(AIO_GREEN_ASAN)
#define AIO_GREEN_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__) && !defined(AIO_GREEN_TSAN)
#define AIO_GREEN_TSAN 1
#endif

#ifdef AIO_GREEN_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
// A dying greenlet's last message must stay on its real stack: ASan frees the fake stack
// (detect_stack_use_after_return) as soon as the final switch starts, before the receiver reads it.
#define AIO_GREEN_REAL_STACK __attribute__((no_sanitize_address))
#else
#define AIO_GREEN_REAL_STACK
#endif
#ifdef AIO_GREEN_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace aio::green {
namespace ctx = boost::context::detail;

namespace {

using detail::EhGlobals;
using detail::Message;
using detail::ThreadCtx;

constexpr std::size_t kMinStack = 16 * 1024;
constexpr std::size_t kCacheSlots = 16;
constexpr std::size_t kHeapFnAlign = 64;  // matches the static_assert in the header

struct CachedStack {
  void* base;
  std::size_t bytes;
};

// Per-thread state off the switch path (that is detail::tls_ctx). Trivially destructible so that a
// Greenlet destroyed late in thread or process teardown can still reach it; the cached stacks are
// unmapped by CacheGuard.
struct ThreadState {
  bool cache_armed;
  bool cache_closed;
  std::size_t cache_count;
  CachedStack cache[kCacheSlots];
  alignas(Greenlet) unsigned char main[sizeof(Greenlet)];
};

constinit thread_local ThreadState tls{};

[[noreturn]] void fatal(const char* what) noexcept {
  std::fprintf(stderr, "aio::green: %s\n", what);
  std::fflush(stderr);
  std::abort();
}

std::size_t page_size() noexcept {
  static const std::size_t size = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return size;
}

void unmap_stack(void* base, std::size_t bytes) noexcept {
#ifdef AIO_GREEN_ASAN
  // Frames that never returned (a dead greenlet's entry) leave poisoned shadow behind.
  ASAN_UNPOISON_MEMORY_REGION(base, bytes);
#endif
  ::munmap(base, bytes);
}

struct CacheGuard {
  ~CacheGuard() {
    for (std::size_t i = 0; i < tls.cache_count; ++i) unmap_stack(tls.cache[i].base, tls.cache[i].bytes);
    tls.cache_count = 0;
    tls.cache_closed = true;
  }
};

void* acquire_stack(std::size_t bytes) {
  ThreadState& ts = tls;
  for (std::size_t i = ts.cache_count; i-- > 0;) {
    if (ts.cache[i].bytes == bytes) {
      void* base = ts.cache[i].base;
      ts.cache[i] = ts.cache[--ts.cache_count];
      return base;
    }
  }
  void* base = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (base == MAP_FAILED) throw std::bad_alloc();
  if (::mprotect(base, page_size(), PROT_NONE) != 0) {
    ::munmap(base, bytes);
    throw std::bad_alloc();
  }
  return base;
}

void release_stack(void* base, std::size_t bytes) noexcept {
  ThreadState& ts = tls;
  if (ts.cache_closed || ts.cache_count == kCacheSlots) return unmap_stack(base, bytes);
  if (!ts.cache_armed) {
    ts.cache_armed = true;
    thread_local CacheGuard guard;  // constructed here, so it is destroyed at thread exit
    (void)guard;
  }
#ifdef AIO_GREEN_ASAN
  ASAN_UNPOISON_MEMORY_REGION(base, bytes);
#endif
  ts.cache[ts.cache_count++] = {base, bytes};
}

bool is_greenlet_exit(const std::exception_ptr& e) noexcept { return aio::detail::holds<GreenletExit>(e); }

}  // namespace

namespace detail {

__thread ThreadCtx tls_ctx __attribute__((tls_model("initial-exec"))) = {nullptr, nullptr};

struct GreenletImpl {
  using State = Greenlet::State;

  static Greenlet* current(ThreadCtx& ts) noexcept {
    if (ts.current) [[likely]]
      return ts.current;
    ThreadState& st = tls;
    ts.eh = reinterpret_cast<EhGlobals*>(abi::__cxa_get_globals());
    auto* g = ::new (static_cast<void*>(st.main)) Greenlet(Greenlet::MainTag{}, &ts);
#ifdef AIO_GREEN_TSAN
    g->tsan_fiber_ = __tsan_get_current_fiber();
#endif
    ts.current = g;
    return g;
  }

  static void free_fn(Greenlet* g) noexcept {
    if (g->ops_) g->ops_->destroy(g->fn_);
    g->ops_ = nullptr;
    if (g->fn_on_heap_) ::operator delete(g->fn_, std::align_val_t(kHeapFnAlign));
    g->fn_on_heap_ = false;
    g->fn_ = nullptr;
  }

  static void free_stack(Greenlet* g) noexcept {
    if (g->stack_) release_stack(g->stack_, g->stack_bytes_);
    g->stack_ = nullptr;
#ifdef AIO_GREEN_TSAN
    if (g->tsan_fiber_) __tsan_destroy_fiber(g->tsan_fiber_);
    g->tsan_fiber_ = nullptr;
#endif
  }

  static void mark_dead(Greenlet* g) noexcept {
    g->state_ = State::kDead;
    g->active_in_ = nullptr;
    g->ctx_ = nullptr;
    if (g->parent_) --g->parent_->live_children_;
  }

  // Runs on the switched-to side: records where the sender stopped and takes its message.
  static std::any receive(Greenlet* self, ctx::transfer_t t) {
    auto* in = static_cast<Message*>(t.data);
    Greenlet* from = in->from;
#ifdef AIO_GREEN_ASAN
    __sanitizer_finish_switch_fiber(self->asan_fake_stack_, &from->asan_bottom_, &from->asan_size_);
#else
    (void)self;
#endif
    if (from->state_ != State::kDead) [[likely]] {
      from->ctx_ = t.fctx;
      if (in->error) [[unlikely]]
        std::rethrow_exception(*in->error);
      return std::move(*in->value);
    }
    // The sender died: its message lives on its stack, so empty it before the stack is recycled
    // (the dead frames are never unwound, so nothing else would release what they hold).
    std::any value = std::move(*in->value);
    in->value->reset();
    std::exception_ptr error;
    if (*in->error) error = std::move(*in->error);  // may be the shared null marker: only read it
    free_stack(from);
    if (error) std::rethrow_exception(std::move(error));
    return value;
  }

  // The raw switch from `self` (the current greenlet) to the started greenlet `target`.
  AIO_GREEN_REAL_STACK static std::any transfer(ThreadCtx& ts, Greenlet* self, Greenlet* target, std::any* value,
                           std::exception_ptr* error) {
    // A dying sender always takes the receiver's slow path, so mark it even without an exception.
    static std::exception_ptr dead_marker;
    Message msg{self, value, error ? error : self->state_ == State::kDead ? &dead_marker : nullptr};
    EhGlobals* eh = ts.eh;
    self->eh_ = *eh;
    *eh = target->eh_;
    ts.current = target;
#ifdef AIO_GREEN_ASAN
    // A null save slot tells ASan the departing fiber is gone for good.
    __sanitizer_start_switch_fiber(self->state_ == State::kDead ? nullptr : &self->asan_fake_stack_,
                                   target->asan_bottom_, target->asan_size_);
#endif
#ifdef AIO_GREEN_TSAN
    __tsan_switch_to_fiber(target->tsan_fiber_, 0);
#endif
    ctx::transfer_t t = ctx::jump_fcontext(target->ctx_, &msg);
    return receive(self, t);
  }

  // Resolves `target` the way Python's greenlet does (dead ones pass control to their parent,
  // an unstarted one hit by an exception dies without running), then switches.
  static std::any deliver(ThreadCtx& ts, Greenlet* self, Greenlet* target, std::any* value,
                          std::exception_ptr* error) {
    for (;;) {
      while (target->state_ == State::kDead) target = target->parent_;
      if (target->state_ != State::kNew || !error) break;
      kill_unstarted(target);
      if (is_greenlet_exit(*error)) error = nullptr;  // like a normal death: an empty value
      target = target->parent_;
    }
    if (target == self) {
      if (error) std::rethrow_exception(*error);
      return std::move(*value);
    }
    if (target->state_ == State::kNew) {
      target->state_ = State::kActive;
      target->active_in_ = target->thread_;
#ifdef AIO_GREEN_TSAN
      target->tsan_fiber_ = __tsan_create_fiber(0);
#endif
    }
    return transfer(ts, self, target, value, error);
  }

  static void kill_unstarted(Greenlet* g) noexcept {
    free_fn(g);
    mark_dead(g);
    free_stack(g);
  }

  [[noreturn]] AIO_GREEN_REAL_STACK static void entry(ctx::transfer_t t) noexcept {
    ThreadCtx& ts = tls_ctx;
    Greenlet* self = ts.current;
    // Both stay alive across the final switch; the receiver moves them out, leaving them empty.
    std::any result;
    std::exception_ptr error;
    try {
      std::any first = receive(self, t);
      result = self->ops_->run(self->fn_, std::move(first));
    } catch (const GreenletExit&) {
    } catch (...) {
      error = std::current_exception();
    }
    free_fn(self);
    mark_dead(self);
    deliver(ts, self, self->parent_, &result, error ? &error : nullptr);
    fatal("a dead greenlet was resumed");
  }
};

}  // namespace detail

using Impl = detail::GreenletImpl;

Greenlet& getcurrent() { return *Impl::current(detail::tls_ctx); }

Greenlet::Greenlet(MainTag, void* thread) noexcept
    : thread_(thread), active_in_(thread), state_(State::kActive) {}

Greenlet::Greenlet(Greenlet& parent, Options opts, std::size_t fn_size, std::size_t fn_align)
    : parent_(&parent), thread_(parent.thread_) {
  const std::size_t page = page_size();
  std::size_t usable = std::max(opts.stack_size, kMinStack);
  usable = (usable + page - 1) / page * page;
  stack_bytes_ = usable + page;
  stack_ = acquire_stack(stack_bytes_);
  auto lo = reinterpret_cast<std::uintptr_t>(stack_) + page;
  auto top = lo + usable;
  // A small function object lives at the top of its own stack; only a large one costs a malloc.
  if (fn_size <= usable / 8) {
    top = (top - fn_size) & ~(std::uintptr_t(std::max<std::size_t>(fn_align, 64)) - 1);
    fn_ = reinterpret_cast<void*>(top);
  } else {
    try {
      fn_ = ::operator new(fn_size, std::align_val_t(kHeapFnAlign));
    } catch (...) {
      release_stack(stack_, stack_bytes_);
      throw;
    }
    fn_on_heap_ = true;
  }
  ctx_ = ctx::make_fcontext(reinterpret_cast<void*>(top), top - lo, &Impl::entry);
  asan_bottom_ = reinterpret_cast<const void*>(lo);
  asan_size_ = usable;
  ++parent_->live_children_;
}

Greenlet::~Greenlet() {
  ThreadCtx& ts = detail::tls_ctx;
  if (state_ == State::kNew) {
    Impl::kill_unstarted(this);
  } else if (state_ == State::kActive && parent_ != nullptr) {
    if (thread_ != &ts) fatal("a suspended greenlet was destroyed on another thread");
    Greenlet* self = Impl::current(ts);
    if (self == this) fatal("a running greenlet was destroyed");
    for (Greenlet* g = self; g; g = g->parent_)
      if (g == this) fatal("a greenlet was destroyed while one of its descendants was running");
    set_parent(*self);  // so that, once dead, it comes back here
    std::exception_ptr exit = std::make_exception_ptr(GreenletExit{});
    std::any none;
    Impl::deliver(ts, self, this, &none, &exit);
    if (state_ != State::kDead) fatal("a greenlet survived GreenletExit while being destroyed");
  }
  if (live_children_ != 0) fatal("a greenlet was destroyed while it had unfinished children");
}

std::any Greenlet::switch_slow(std::any& v) {
  ThreadCtx& ts = detail::tls_ctx;
  Greenlet* self = Impl::current(ts);
  if (thread_ != &ts) throw std::logic_error("aio::green: cannot switch to a greenlet of another thread");
  if (state_ == State::kActive && this != self) return Impl::transfer(ts, self, this, &v, nullptr);
  return Impl::deliver(ts, self, this, &v, nullptr);
}

std::any Greenlet::receive_slow(Greenlet* self, ctx::transfer_t t) { return Impl::receive(self, t); }

std::any Greenlet::throw_to(std::exception_ptr e) {
  ThreadCtx& ts = detail::tls_ctx;
  Greenlet* self = Impl::current(ts);
  if (thread_ != &ts) throw std::logic_error("aio::green: cannot throw to a greenlet of another thread");
  if (!e) e = std::make_exception_ptr(GreenletExit{});
  std::any none;
  return Impl::deliver(ts, self, this, &none, &e);
}

void Greenlet::set_parent(Greenlet& parent) {
  if (parent_ == nullptr) throw std::invalid_argument("aio::green: a main greenlet has no parent");
  if (parent.thread_ != thread_) throw std::invalid_argument("aio::green: parent belongs to another thread");
  for (Greenlet* g = &parent; g; g = g->parent_)
    if (g == this) throw std::invalid_argument("aio::green: cyclic parent chain");
  if (state_ != State::kDead) {
    --parent_->live_children_;
    ++parent.live_children_;
  }
  parent_ = &parent;
}

}  // namespace aio::green
