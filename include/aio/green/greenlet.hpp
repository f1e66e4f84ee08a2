// Stackful coroutines in the style of Python's greenlet: a Greenlet runs a function on its own
// stack and hands control, with a std::any value, explicitly to another greenlet of its thread.
#pragma once

#include <any>
#include <boost/context/detail/fcontext.hpp>
#include <cstddef>
#include <exception>
#include <functional>
#include <new>
#include <type_traits>
#include <utility>

namespace aio::green {

class Greenlet;

/// Thrown into a greenlet to kill it: dying of it is a normal exit that hands an empty value to
/// the parent. Deliberately not a std::exception, so `catch (const std::exception&)` lets it pass.
class GreenletExit final {};

/// Per-greenlet settings; use designated initializers: `Greenlet g(fn, {.stack_size = 64 << 10})`.
struct Options {
  /// Usable stack bytes, rounded up to whole pages (at least 16 KiB); a PROT_NONE guard page lies
  /// below it, so an overflow is a SIGSEGV instead of silent corruption.
  std::size_t stack_size = 256 * 1024;
};

/// The running greenlet of this thread; the thread's main greenlet is created on first use.
Greenlet& getcurrent();

namespace detail {
struct GreenletImpl;

// The switch fast path is inline (see switch_to); sanitizer builds take the out-of-line path,
// which carries the fiber annotations. Build the library and its users with the same sanitizers.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define AIO_GREEN_INLINE_SWITCH 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define AIO_GREEN_INLINE_SWITCH 0
#endif
#endif
#ifndef AIO_GREEN_INLINE_SWITCH
#define AIO_GREEN_INLINE_SWITCH 1
#endif

// Mirror of the Itanium C++ ABI's __cxa_eh_globals (libstdc++ and libc++abi agree on it): the
// caught-exception chain and uncaught count are per thread but must follow the greenlet.
struct EhGlobals {
  void* caught;
  unsigned int uncaught;
};

// A value or an exception in flight, living on the sender's stack until the receiver takes it.
struct Message {
  Greenlet* from;
  std::any* value;            // never null
  std::exception_ptr* error;  // null on the fast path: no exception to raise, sender still alive
};

// What the switch path needs per thread; POD so `__thread` applies (no TLS wrapper call), and
// initial-exec keeps the access a plain %fs-relative load even in PIC code.
struct ThreadCtx {
  Greenlet* current;  // null until the thread's main greenlet exists
  EhGlobals* eh;
};
extern __thread ThreadCtx tls_ctx __attribute__((tls_model("initial-exec")));

// Type-erased access to the stored function: two plain pointers, so no std::function.
struct FnOps {
  std::any (*run)(void* fn, std::any&& first);
  void (*destroy)(void* fn) noexcept;
};

template <class D>
std::any run_fn(void* p, std::any&& first) {
  D&& fn = std::move(*static_cast<D*>(p));
  auto call = [&]() -> decltype(auto) {
    if constexpr (std::is_invocable_v<D, std::any>)
      return std::invoke(std::move(fn), std::move(first));
    else
      return std::invoke(std::move(fn));
  };
  using R = decltype(call());
  if constexpr (std::is_void_v<R>) {
    call();
    return {};
  } else if constexpr (std::is_same_v<std::remove_cvref_t<R>, std::any>) {
    return call();
  } else {
    static_assert(std::is_copy_constructible_v<std::decay_t<R>>,
                  "a greenlet's return value travels as std::any, so it must be copy-constructible");
    return std::any(call());
  }
}

template <class D>
void destroy_fn(void* p) noexcept {
  static_cast<D*>(p)->~D();
}

template <class D>
inline constexpr FnOps fn_ops{&run_fn<D>, &destroy_fn<D>};

template <class F>
concept GreenletFn = std::is_invocable_v<std::decay_t<F>, std::any> || std::is_invocable_v<std::decay_t<F>>;
}  // namespace detail

/// A function running on its own stack, switched to explicitly; identity is its address, so it
/// is neither copyable nor movable.
///
/// Semantics follow Python's greenlet: control returns to the parent when the function ends
/// (its return value, or its exception, comes out of the parent's pending switch_to()); switching
/// to a dead greenlet goes to its nearest live ancestor instead. A greenlet may be resumed from any
/// code on its thread (a callback, another greenlet): switches need not nest.
class Greenlet {
 public:
  /// A greenlet that will run `fn()` or `fn(std::any first_value)` when first switched to; its
  /// parent is the current greenlet.
  template <detail::GreenletFn F>
  explicit Greenlet(F&& fn, Options opts = {}) : Greenlet(std::forward<F>(fn), getcurrent(), opts) {}

  /// As above, with an explicit parent (which must belong to this thread and outlive the greenlet).
  template <detail::GreenletFn F>
  Greenlet(F&& fn, Greenlet& parent, Options opts = {})
      : Greenlet(parent, opts, sizeof(std::decay_t<F>), alignof(std::decay_t<F>)) {
    using D = std::decay_t<F>;
    static_assert(alignof(D) <= 64, "greenlet functions aligned beyond 64 bytes are not supported");
    ::new (fn_) D(std::forward<F>(fn));
    ops_ = &detail::fn_ops<D>;  // only now may the destructor destroy fn
  }

  Greenlet(const Greenlet&) = delete;
  Greenlet& operator=(const Greenlet&) = delete;

  /// A suspended greenlet is killed first: GreenletExit is thrown at its switch point so the
  /// destructors on its stack run. Aborts if it swallows GreenletExit and stays alive, if it is the
  /// running greenlet, or if it still has unfinished children (they would return into freed memory).
  ~Greenlet();

  /// Suspends the current greenlet and runs this one: the first switch starts the function with
  /// `v`, later ones make its pending switch_to() return `v`. Returns what the next switch back
  /// into the caller carries. A dead target passes control to its nearest live ancestor, and the
  /// running greenlet as target returns `v` at once (both as in Python). Throws std::logic_error if
  /// this greenlet belongs to another thread.
  inline std::any switch_to(std::any v = {});

  /// Like switch_to(), but `e` is raised inside this greenlet at its switch point (null means
  /// GreenletExit). An unstarted greenlet dies without running and `e` goes on to its parent.
  std::any throw_to(std::exception_ptr e = {});

  /// True once the function has returned or thrown (or the greenlet was killed before starting).
  bool dead() const noexcept { return state_ == State::kDead; }

  /// True from the first switch into it until it dies, like Python's `bool(greenlet)`; a main
  /// greenlet is always active.
  bool active() const noexcept { return state_ == State::kActive; }

  /// Where control and the return value go when the function ends; null for a main greenlet.
  Greenlet* parent() const noexcept { return parent_; }

  /// Re-parents this greenlet; throws std::invalid_argument on a cycle or a parent of another thread.
  void set_parent(Greenlet& parent);

 private:
  friend struct detail::GreenletImpl;
  enum class State : unsigned char { kNew, kActive, kDead };

  // Allocates the stack and reserves room for the function object at its top.
  Greenlet(Greenlet& parent, Options opts, std::size_t fn_size, std::size_t fn_align);
  // The thread's implicit main greenlet.
  struct MainTag {};
  Greenlet(MainTag, void* thread) noexcept;
  // Everything switch_to()'s inline fast path leaves out: first use, unstarted or dead targets,
  // exceptions, other threads, sanitizer annotations.
  std::any switch_slow(std::any& v);
  static std::any receive_slow(Greenlet* self, boost::context::detail::transfer_t t);

  void* ctx_ = nullptr;  // boost fcontext_t of the suspended greenlet
  Greenlet* parent_ = nullptr;
  void* thread_ = nullptr;     // owning thread's state; switching across threads is refused
  void* active_in_ = nullptr;  // thread_ while active, else null: one compare on the fast path
  void* fn_ = nullptr;
  const detail::FnOps* ops_ = nullptr;
  void* stack_ = nullptr;  // mmap base, guard page included
  std::size_t stack_bytes_ = 0;
  // C++ exception state (__cxa_eh_globals) is per thread, so each greenlet keeps its own copy.
  detail::EhGlobals eh_{};
  State state_ = State::kNew;
  bool fn_on_heap_ = false;
  std::size_t live_children_ = 0;
  // Sanitizer fiber bookkeeping; present in every build so the layout never depends on flags.
  [[maybe_unused]] void* asan_fake_stack_ = nullptr;
  const void* asan_bottom_ = nullptr;
  std::size_t asan_size_ = 0;
  [[maybe_unused]] void* tsan_fiber_ = nullptr;
};

// Inline so that no `ret` separates two switches: jump_fcontext resumes with an indirect jump,
// which leaves the return-stack predictor off by one, so every return between switches mispredicts.
std::any Greenlet::switch_to(std::any v) {
#if AIO_GREEN_INLINE_SWITCH
  detail::ThreadCtx& ts = detail::tls_ctx;
  Greenlet* self = ts.current;
  if (active_in_ == &ts && this != self) [[likely]] {
    detail::Message msg{self, &v, nullptr};
    detail::EhGlobals* eh = ts.eh;
    self->eh_ = *eh;
    *eh = eh_;
    ts.current = this;
    boost::context::detail::transfer_t t = boost::context::detail::jump_fcontext(ctx_, &msg);
    auto* in = static_cast<detail::Message*>(t.data);
    if (in->error == nullptr) [[likely]] {
      in->from->ctx_ = t.fctx;
      return std::move(*in->value);
    }
    return receive_slow(self, t);
  }
#endif
  return switch_slow(v);
}

}  // namespace aio::green
