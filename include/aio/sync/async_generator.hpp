// aio::AsyncGenerator<T>: Python's async generator — co_await and co_yield in one body,
// `while (auto v = co_await gen.next())`; and aio::with() over one that yields once,
// Python's @asynccontextmanager.
#pragma once
#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "../core/detail/awaitable.hpp"
#include "../core/task.hpp"
#include "errors.hpp"

namespace aio {

/// The body runs inside the task that awaits next(), as a nested coroutine does: its
/// awaits suspend that task, and cancelling the task raises CancelledError at the await
/// the body is in (the generator is then finished and next() rethrows it). Destroying
/// the generator destroys its frame (destructors run, no awaits); aclose() runs the
/// body's async cleanup.
template <class T>
class AsyncGenerator {
  static_assert(!std::is_reference_v<T>, "AsyncGenerator<T> yields values; T is not a reference");

 public:
  class promise_type {
   public:
    AsyncGenerator get_return_object() noexcept {
      return AsyncGenerator(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() noexcept { return {}; }

    /// Back to the coroutine that resumed us (symmetric transfer, no loop round trip).
    struct ToCaller {
      promise_type* p;
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<>) noexcept {
        p->running_ = false;
        return p->caller_;
      }
      void await_resume() {
        if (p->throw_in_) std::rethrow_exception(std::exchange(p->throw_in_, nullptr));
      }
    };
    struct Finished {
      promise_type* p;
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<>) noexcept {
        p->running_ = false;
        return p->caller_;
      }
      void await_resume() noexcept {}
    };
    Finished final_suspend() noexcept { return {this}; }
    void unhandled_exception() noexcept { error_ = std::current_exception(); }
    void return_void() noexcept {}

    ToCaller yield_value(T& v) noexcept { return publish(std::addressof(v), false); }
    ToCaller yield_value(T&& v) noexcept { return publish(std::addressof(v), true); }
    template <class U>
      requires std::constructible_from<T, U>
    ToCaller yield_value(U&& v) {
      owned_.emplace(std::forward<U>(v));
      return publish(std::addressof(*owned_), true);
    }

   private:
    friend class AsyncGenerator;
    ToCaller publish(T* v, bool movable) noexcept {
      value_ = v;
      movable_ = movable;
      return {this};
    }
    std::coroutine_handle<> caller_;
    T* value_ = nullptr;
    std::optional<T> owned_;
    std::exception_ptr error_;
    std::exception_ptr throw_in_;  // thrown at the co_yield when resumed (athrow, aclose)
    bool movable_ = false;
    bool started_ = false;
    bool running_ = false;
  };

  /// Resumes the body from the awaiting coroutine; gives the yielded value's address
  /// (null once the body has returned) or rethrows what the body threw.
  class ResumeAwaiter {
   public:
    ResumeAwaiter(std::coroutine_handle<promise_type> h, std::exception_ptr throw_in) noexcept
        : h_(h), throw_in_(std::move(throw_in)) {}
    bool await_ready() {
      if (!h_ || h_.done()) return true;
      if (h_.promise().running_) throw std::runtime_error("anext(): asynchronous generator is already running");
      return false;
    }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
      promise_type& p = h_.promise();
      p.caller_ = caller;
      p.throw_in_ = std::move(throw_in_);
      p.started_ = true;
      p.running_ = true;
      p.value_ = nullptr;
      return h_;
    }
    T* await_resume() {
      if (!h_) return nullptr;
      promise_type& p = h_.promise();
      if (p.error_) std::rethrow_exception(std::exchange(p.error_, nullptr));
      return h_.done() ? nullptr : p.value_;
    }

   protected:
    std::coroutine_handle<promise_type> h_;
    std::exception_ptr throw_in_;
  };

  /// What next() and athrow() give: the next value, nullopt once the body has returned.
  class NextAwaiter : public ResumeAwaiter {
   public:
    using ResumeAwaiter::ResumeAwaiter;
    std::optional<T> await_resume() {
      T* v = ResumeAwaiter::await_resume();
      if (!v) return std::nullopt;
      if (this->h_.promise().movable_) return std::optional<T>(std::move(*v));
      return std::optional<T>(*v);  // the body yielded one of its variables: copy it
    }
  };

  AsyncGenerator() noexcept = default;
  AsyncGenerator(AsyncGenerator&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  AsyncGenerator& operator=(AsyncGenerator&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  ~AsyncGenerator() {
    if (h_) h_.destroy();
  }

  /// `co_await gen.next()`: Python's `await anext(gen)`; nullopt at the end
  /// (StopAsyncIteration). std::runtime_error while another next() is in progress.
  [[nodiscard]] NextAwaiter next() noexcept { return NextAwaiter(h_, nullptr); }
  /// `co_await gen.athrow(e)`: raises e at the co_yield the body waits at; gives what it
  /// yields next (nullopt if it returns), or throws what it throws. Not started: e is
  /// thrown here and the generator is finished.
  [[nodiscard]] NextAwaiter athrow(std::exception_ptr e) {
    if (h_ && !h_.done() && !h_.promise().started_) {
      h_.destroy();
      h_ = {};
      std::rethrow_exception(e);
    }
    return NextAwaiter(h_, std::move(e));
  }
  /// `co_await gen.aclose()`: GeneratorExit at the co_yield, so the body's cleanup runs,
  /// awaits included. std::runtime_error if the body yields again instead.
  Task<> aclose() {
    if (!h_ || h_.done()) co_return;
    if (!h_.promise().started_) {
      h_.destroy();
      h_ = {};
      co_return;
    }
    bool yielded = false;
    try {
      yielded = co_await ResumeAwaiter(h_, std::make_exception_ptr(GeneratorExit())) != nullptr;
    } catch (const GeneratorExit&) {
    }
    if (yielded) throw std::runtime_error("async generator ignored GeneratorExit");
  }
  /// True once the body has returned or thrown (or was closed before it started).
  bool done() const noexcept { return !h_ || h_.done(); }

  /// For aio::with(): the value the body yielded last, left where it is.
  ResumeAwaiter resume_raw(std::exception_ptr throw_in = nullptr) noexcept { return ResumeAwaiter(h_, std::move(throw_in)); }

 private:
  explicit AsyncGenerator(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  std::coroutine_handle<promise_type> h_;
};

/// `async with asynccontextmanager_fn() as resource:` — the generator runs to its
/// co_yield (enter), the body gets the yielded value, then the generator resumes (exit):
/// normally on success; with the body's exception (CancelledError included) thrown at
/// its co_yield otherwise. If the generator swallows that exception, it is suppressed for
/// a void body (as Python's) and rethrown for a body with a value; what the generator
/// throws instead replaces it.
template <class T, class F>
auto with(AsyncGenerator<T> gen, F body) -> decltype(body(std::declval<T&>())) {
  T* resource = co_await gen.resume_raw();
  if (!resource) throw std::runtime_error("generator didn't yield");
  using R = await_result_t<decltype(body(*resource))>;
  std::exception_ptr error;
  if constexpr (std::is_void_v<R>) {
    try {
      co_await body(*resource);
    } catch (...) {
      error = std::current_exception();
    }
    if (!error) {
      if (co_await gen.resume_raw()) throw std::runtime_error("generator didn't stop");
      co_return;
    }
    if (co_await gen.resume_raw(error)) throw std::runtime_error("generator didn't stop after athrow()");
    // the generator returned: the exception is suppressed
  } else {
    std::optional<std::conditional_t<std::is_reference_v<R>, std::reference_wrapper<std::remove_reference_t<R>>, R>>
        value;
    try {
      value.emplace(co_await body(*resource));
    } catch (...) {
      error = std::current_exception();
    }
    if (!error) {
      if (co_await gen.resume_raw()) throw std::runtime_error("generator didn't stop");
      co_return std::move(*value);
    }
    if (co_await gen.resume_raw(error)) throw std::runtime_error("generator didn't stop after athrow()");
    std::rethrow_exception(error);
  }
}

}  // namespace aio
