// The machinery shared by Generator<T> and Coroutine<Y, S>: synchronous coroutines that
// co_yield values, delegate with co_yield aio::yield_from(...), and can be closed.
#pragma once
#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <ranges>
#include <type_traits>
#include <utility>

#include "../../core/errors.hpp"
#include "../errors.hpp"

namespace aio {

/// `co_yield aio::yield_from(x)`: Python's `yield from x` — x is another generator of the
/// same type (taken over; an lvalue is borrowed) or any range whose elements convert.
template <class R>
struct YieldFrom {
  R source;
};
template <class R>
YieldFrom<R> yield_from(R&& source) {
  return YieldFrom<R>{std::forward<R>(source)};
}

namespace detail {

template <class Y>
struct NoSend {};

/// One frame of a (possibly nested) synchronous generator. The root frame holds what its
/// driver reads: the yielded value, the innermost active frame (leaf), the value sent in.
template <class Y, class S>
class GenPromiseBase {
 public:
  using Sent = std::conditional_t<std::is_void_v<S>, NoSend<Y>, std::optional<S>>;

  GenPromiseBase() = default;
  GenPromiseBase(const GenPromiseBase&) = delete;

  std::suspend_always initial_suspend() noexcept { return {}; }

  struct FinalAwaiter {
    GenPromiseBase* self;
    bool await_ready() noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<>) noexcept {
      if (GenPromiseBase* parent = self->parent_) {  // back to the frame that delegated to us
        self->root_->leaf_ = parent;
        self->parent_ = nullptr;
        return parent->self_;
      }
      return std::noop_coroutine();
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {this}; }
  void unhandled_exception() noexcept { error_ = std::current_exception(); }
  void return_void() noexcept {}

  /// A synchronous generator cannot co_await (use AsyncGenerator for that).
  template <class A>
  void await_transform(A&&) = delete;

  struct YieldAwaiter {
    GenPromiseBase* root;
    bool await_ready() noexcept { return false; }
    void await_suspend(std::coroutine_handle<>) noexcept {}
    S await_resume() {
      if (root->throw_in_) std::rethrow_exception(std::exchange(root->throw_in_, nullptr));
      if constexpr (!std::is_void_v<S>) {
        S value = std::move(*root->sent_);
        root->sent_.reset();
        return value;
      }
    }
  };
  // The value stays where the body has it (no copy) until the generator resumes.
  YieldAwaiter yield_value(Y& v) noexcept { return publish(std::addressof(v), false); }
  YieldAwaiter yield_value(Y&& v) noexcept { return publish(std::addressof(v), true); }
  template <class U>
    requires std::constructible_from<Y, U>
  YieldAwaiter yield_value(U&& v) {
    owned_.emplace(std::forward<U>(v));
    return publish(std::addressof(*owned_), true);
  }

  /// Delegation: runs `inner` to its end, its values going straight to our driver.
  template <class G>
  struct DelegateAwaiter {
    G inner;  // a generator, or a reference to one
    GenPromiseBase* self;
    bool await_ready() noexcept { return !inner.frame_promise() || inner.frame_done(); }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<>) noexcept {
      GenPromiseBase* child = inner.frame_promise();
      child->parent_ = self;
      child->root_ = self->root_;
      self->root_->leaf_ = child;
      return child->self_;
    }
    void await_resume() {
      GenPromiseBase* child = inner.frame_promise();
      if (child && child->error_) std::rethrow_exception(std::exchange(child->error_, nullptr));
    }
  };

  // Driver side (called on the root frame).
  bool started() const noexcept { return started_; }
  bool finished() const noexcept { return self_.done(); }
  /// Runs the innermost frame to its next co_yield or to the end; rethrows the body's error.
  void resume() {
    started_ = true;
    value_ = nullptr;
    leaf_->self_.resume();
    if (self_.done() && error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }
  /// The value of the last co_yield (null once finished).
  Y* value() const noexcept { return value_; }
  bool value_movable() const noexcept { return movable_; }
  template <class U>
    requires(!std::is_void_v<S>)
  void set_sent(U&& v) {
    sent_.emplace(std::forward<U>(v));
  }
  void set_throw_in(std::exception_ptr e) noexcept { throw_in_ = std::move(e); }

 protected:
  void bind(std::coroutine_handle<> self) noexcept { self_ = self; }

 private:
  YieldAwaiter publish(Y* v, bool movable) noexcept {
    root_->value_ = v;
    root_->movable_ = movable;
    return YieldAwaiter{root_};
  }

  std::coroutine_handle<> self_;
  GenPromiseBase* root_ = this;
  GenPromiseBase* leaf_ = this;       // root: the innermost frame running
  GenPromiseBase* parent_ = nullptr;  // a delegate: the frame that delegated to it
  Y* value_ = nullptr;                // root: the last value yielded
  std::optional<Y> owned_;            // a value converted at co_yield, kept in this frame
  std::exception_ptr error_;
  std::exception_ptr throw_in_;  // root: thrown at the leaf's co_yield when it resumes (close)
  [[no_unique_address]] Sent sent_{};
  bool movable_ = false;
  bool started_ = false;
};

/// The owning handle shared by Generator and Coroutine.
template <class Promise>
class GenHandle {
 public:
  GenHandle() noexcept = default;
  explicit GenHandle(std::coroutine_handle<Promise> h) noexcept : h_(h) {}
  GenHandle(GenHandle&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  GenHandle& operator=(GenHandle&& o) noexcept {
    if (this != &o) {
      reset();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  ~GenHandle() { reset(); }
  void reset() noexcept {
    if (h_) std::exchange(h_, {}).destroy();
  }
  Promise* get() const noexcept { return h_ ? &h_.promise() : nullptr; }
  bool done() const noexcept { return !h_ || h_.done(); }

 private:
  std::coroutine_handle<Promise> h_;
};

inline bool is_generator_exit(const std::exception_ptr& e) { return holds<GeneratorExit>(e); }

}  // namespace detail
}  // namespace aio
