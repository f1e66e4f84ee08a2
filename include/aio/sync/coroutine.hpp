// aio::Coroutine<Y, S>: Python's generator driven by send() — `S got = co_yield y;`.
#pragma once
#include <optional>
#include <stdexcept>

#include "detail/sync_generator.hpp"

namespace aio {

/// A generator that receives values: the body writes `S got = co_yield y;`, the driver
/// calls next() (runs to the first co_yield, or sends S{} — Python's None — later),
/// send(s), close(). The seed's consumer:
///   aio::Coroutine<std::string, int> consumer() {
///     std::string r;
///     for (;;) { int n = co_yield r; if (!n) co_return; ...; r = "OK"; } }
template <class Y, class S>
class Coroutine {
  static_assert(!std::is_reference_v<Y> && !std::is_void_v<S>, "Coroutine<Y, S> yields Y values and receives S values");

 public:
  class promise_type : public detail::GenPromiseBase<Y, S> {
   public:
    using Base = detail::GenPromiseBase<Y, S>;
    Coroutine get_return_object() noexcept {
      auto h = std::coroutine_handle<promise_type>::from_promise(*this);
      this->bind(h);
      return Coroutine(h);
    }
    using Base::yield_value;
    /// `co_yield aio::yield_from(other)`: send() reaches the innermost coroutine.
    template <class R>
      requires std::is_same_v<std::remove_cvref_t<R>, Coroutine>
    auto yield_value(YieldFrom<R>&& from) {
      return typename Base::template DelegateAwaiter<R>{std::forward<R>(from.source), this};
    }
  };

  Coroutine() noexcept = default;
  Coroutine(Coroutine&&) noexcept = default;
  Coroutine& operator=(Coroutine&& o) noexcept {
    if (this != &o) {
      close_quietly();
      h_ = std::move(o.h_);
    }
    return *this;
  }
  /// Closes it (GeneratorExit at its co_yield, as Python's finaliser does), errors ignored.
  ~Coroutine() { close_quietly(); }

  /// Python's next(c): the first call runs the body to its first co_yield; later ones
  /// are send(S{}). nullopt once the body has returned (Python's StopIteration).
  std::optional<Y> next() {
    promise_type* p = h_.get();
    if (!p || h_.done()) return std::nullopt;
    if (p->started()) p->set_sent(S{});
    return step(p);
  }
  /// c.send(v): resumes the body with v as the value of its co_yield; returns the next
  /// yielded value, nullopt once it returns. std::logic_error before the first next()
  /// (Python: "can't send non-None value to a just-started generator").
  std::optional<Y> send(S value) {
    promise_type* p = h_.get();
    if (!p || h_.done()) return std::nullopt;
    if (!p->started()) throw std::logic_error("can't send non-None value to a just-started generator");
    p->set_sent(std::move(value));
    return step(p);
  }
  /// c.close(): throws GeneratorExit at the co_yield so the body's cleanup runs (RAII and
  /// catch blocks). std::runtime_error if the body yields again; its other errors propagate.
  void close() {
    promise_type* p = h_.get();
    if (!p || h_.done()) return;
    if (!p->started()) {
      h_.reset();
      return;
    }
    p->set_throw_in(std::make_exception_ptr(GeneratorExit()));
    try {
      p->resume();
    } catch (...) {
      auto error = std::current_exception();
      h_.reset();
      if (detail::is_generator_exit(error)) return;
      throw;
    }
    const bool yielded = !h_.done();
    h_.reset();
    if (yielded) throw std::runtime_error("generator ignored GeneratorExit");
  }
  /// True once the body returned, threw, or was closed.
  bool done() const noexcept { return h_.done(); }

  // For yield_from().
  detail::GenPromiseBase<Y, S>* frame_promise() const noexcept { return h_.get(); }
  bool frame_done() const noexcept { return h_.done(); }

 private:
  explicit Coroutine(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  std::optional<Y> step(promise_type* p) {
    p->resume();
    if (h_.done()) return std::nullopt;
    Y* v = p->value();
    if (p->value_movable()) return std::optional<Y>(std::move(*v));
    return std::optional<Y>(*v);
  }
  void close_quietly() noexcept {
    try {
      close();
    } catch (...) {
    }
  }
  detail::GenHandle<promise_type> h_;
};

}  // namespace aio
