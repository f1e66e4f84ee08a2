// aio::TaskHandle<T>: asyncio.Task — a scheduled task, shared by cheap copies.
#pragma once
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

#include "detail/state_ref.hpp"
#include "task.hpp"

namespace aio {

/// A scheduled task. Copies share it; the task runs on even when every handle is
/// dropped. TaskHandle<> (void) is the type-erased form: any TaskHandle<T> converts
/// to it, and awaiting it only waits and rethrows.
template <class T = void>
class TaskHandle {
 public:
  using value_type = T;

  TaskHandle() noexcept = default;
  /// Adopts a state (create_task and current_task make handles this way).
  explicit TaskHandle(detail::TaskState* s) noexcept : ref_(s) {}
  template <class U>
    requires(std::is_void_v<T> && !std::is_void_v<U>)
  TaskHandle(const TaskHandle<U>& other) noexcept : ref_(other.state()) {}

  explicit operator bool() const noexcept { return static_cast<bool>(ref_); }
  friend bool operator==(const TaskHandle& a, const TaskHandle& b) noexcept { return a.ref_ == b.ref_; }

  bool done() const noexcept { return ref_->done(); }
  bool cancelled() const noexcept { return ref_->cancelled(); }
  /// The value; rethrows the task's exception, CancelledError if it was cancelled,
  /// InvalidStateError while it runs.
  T result() const { return detail::read_result<T, detail::TaskPromise<T>>(*ref_); }
  /// The task's exception (null when it returned a value); CancelledError is thrown, not returned.
  std::exception_ptr exception() const {
    if (!done()) throw InvalidStateError("Exception is not set.");
    if (cancelled()) std::rethrow_exception(ref_->take_error());
    return ref_->take_error();
  }
  /// Asks the task to stop: CancelledError is raised at its current await. False when done.
  bool cancel(std::string_view message = {}) const { return ref_->cancel(message); }
  int cancelling() const noexcept { return ref_->cancelling(); }
  int uncancel() const noexcept { return ref_->uncancel(); }

  /// fn(handle) runs through the loop once the task is done; returns an id for remove_done_callback.
  template <class F>
    requires std::invocable<F&, TaskHandle&>
  std::uint64_t add_done_callback(F fn) const {
    return detail::DoneCallback::add(*ref_, [fn = std::move(fn)](detail::FutureState& s) mutable {
      TaskHandle self(static_cast<detail::TaskState*>(&s));
      fn(self);
    });
  }
  std::size_t remove_done_callback(std::uint64_t id) const { return detail::DoneCallback::remove(*ref_, id); }

  std::string get_name() const { return ref_->name(); }
  void set_name(std::string name) const { ref_->set_name(std::move(name)); }

  auto operator co_await() const noexcept {
    return detail::WaitAwaiter<T, detail::TaskPromise<T>>(ref_.get());
  }

  detail::TaskState* state() const noexcept { return ref_.get(); }

  friend std::ostream& operator<<(std::ostream& os, const TaskHandle& t) {
    if (!t) return os << "<TaskHandle empty>";
    t.ref_->write_repr(os);
    return os;
  }

 private:
  detail::StateRef<detail::TaskState> ref_;
};

}  // namespace aio
