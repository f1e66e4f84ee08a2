// aio::Task<T>: the lazy coroutine ("coroutine object"). Calling a coroutine function
// runs nothing; co_await runs it inline by symmetric transfer; create_task schedules it.
#pragma once
#include <coroutine>
#include <exception>
#include <ostream>
#include <utility>

#include "detail/frame_allocator.hpp"
#include "detail/repr.hpp"
#include "detail/task_state.hpp"

namespace aio {

template <class T = void>
class Task;

namespace detail {

template <class T>
class TaskPromise;

template <class T>
class TaskPromiseReturn : public TaskState, public ValueSlot<T> {
 public:
  template <class U = T>
  void return_value(U&& v) {
    this->construct_value(std::forward<U>(v));
    this->has_value_ = true;
  }
};
template <>
class TaskPromiseReturn<void> : public TaskState, public ValueSlot<void> {
 public:
  void return_void() noexcept {}
};

/// Frame and promise of Task<T>. A nested (awaited inline) frame uses only the
/// value/error and the continuation; a scheduled one uses all of TaskState.
template <class T>
class TaskPromise final : public TaskPromiseReturn<T> {
 public:
  using Handle = std::coroutine_handle<TaskPromise>;

  TaskPromise() noexcept = default;
  ~TaskPromise() {
    if (this->has_value_) this->destroy_value();
  }

  static void* operator new(std::size_t n) { return FrameAllocator::allocate(n); }
  static void operator delete(void* p, std::size_t n) noexcept { FrameAllocator::deallocate(p, n); }

  Task<T> get_return_object() noexcept;
  std::suspend_always initial_suspend() noexcept { return {}; }

  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    std::coroutine_handle<> await_suspend(Handle h) noexcept {
      TaskPromise& p = h.promise();
      if (!p.is_root_) return p.resume_point_;  // back to the awaiting parent
      p.complete();                              // may destroy this frame: touch nothing after
      return std::noop_coroutine();
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() noexcept { this->set_error(std::current_exception()); }

  /// Awaited inline: the parent resumes at `parent` once this frame ends.
  void set_continuation(std::coroutine_handle<> parent) noexcept { this->resume_point_ = parent; }

  /// The outcome for an inline await: the value, or the exception rethrown.
  T take_result() {
    if (this->peek_error()) [[unlikely]]
      std::rethrow_exception(this->take_error());
    if constexpr (std::is_reference_v<T>) return this->get();
    else if constexpr (!std::is_void_v<T>) return std::move(this->get());
  }

 protected:
  void destroy() noexcept override { Handle::from_promise(*this).destroy(); }
  void write_result(std::ostream& os) const override {
    if constexpr (!std::is_void_v<T>) {
      os << " result=";
      write_value(os, this->get());
    } else {
      os << " result=None";
    }
  }
};

}  // namespace detail

/// A coroutine that has not started: `aio::Task<int> f() { co_return 1; }`. Awaiting it
/// runs it to completion inside the awaiting task, with no trip through the loop;
/// `create_task` turns it into a scheduled TaskHandle. Dropping it unrun runs nothing.
template <class T>
class [[nodiscard("a coroutine that is never awaited never runs")]] Task {
 public:
  using promise_type = detail::TaskPromise<T>;
  using value_type = T;

  Task() noexcept = default;
  explicit Task(typename promise_type::Handle h) noexcept : h_(h) {}
  Task(Task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  Task& operator=(Task&& other) noexcept {
    if (this != &other) {
      if (h_) h_.destroy();
      h_ = std::exchange(other.h_, {});
    }
    return *this;
  }
  ~Task() {
    if (h_) h_.destroy();
  }

  explicit operator bool() const noexcept { return static_cast<bool>(h_); }

  struct Awaiter {
    typename promise_type::Handle h;
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> parent) noexcept {
      h.promise().set_continuation(parent);
      return h;
    }
    T await_resume() { return h.promise().take_result(); }
  };
  Awaiter operator co_await() & { return Awaiter{checked()}; }
  Awaiter operator co_await() && { return Awaiter{checked()}; }

  /// Gives up ownership of the frame (create_task takes it over).
  typename promise_type::Handle release() noexcept { return std::exchange(h_, {}); }

 private:
  typename promise_type::Handle checked() const {
    if (!h_ || h_.done()) throw std::runtime_error("cannot reuse already awaited coroutine");
    return h_;
  }
  typename promise_type::Handle h_;
};

template <class T>
Task<T> detail::TaskPromise<T>::get_return_object() noexcept {
  return Task<T>(Handle::from_promise(*this));
}

}  // namespace aio
