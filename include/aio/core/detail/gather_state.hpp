// The counting core of gather: one node registered in every child, the gathering task
// woken once. No memory per child beyond the handles the awaiter already holds.
#pragma once
#include <cstddef>
#include <exception>
#include <string>
#include <string_view>

#include "task_state.hpp"

namespace aio::detail {

/// Lives on the heap until both the awaiter and every child still registered are done
/// with it, so children finishing after an early error still have their exceptions
/// marked retrieved, as asyncio's gather does.
class GatherState : public Completion {
 public:
  explicit GatherState(bool return_exceptions) noexcept
      : Completion(&GatherState::on_child_done), return_exceptions_(return_exceptions) {}
  GatherState(const GatherState&) = delete;

  /// Counts a child in, registering on it unless it is done already.
  void add_child(FutureState& child) {
    started_ = true;
    if (child.done()) {
      if (!return_exceptions_ && !first_error_ && child.peek_error()) first_error_ = &child;
      return;
    }
    child.add_waiter(this);
    ++registered_;
    ++remaining_;
  }
  /// True once the children were counted in (at the await, or as they were created).
  bool started() const noexcept { return started_; }
  bool must_wait() const noexcept { return remaining_ > 0 && !first_error_; }
  bool has_registered() const noexcept { return registered_ > 0; }
  void suspend(std::coroutine_handle<> h, CancelHook* hook);
  /// The gather was cancelled (with `message`): it ends with that CancelledError, whatever
  /// return_exceptions says, as asyncio's does.
  void mark_cancel_requested(std::string_view message) {
    if (!cancel_error_) cancel_error_ = std::make_exception_ptr(CancelledError(std::string(message)));
  }
  /// After the wake-up: a pending cancellation, else the first child error (without
  /// return_exceptions), else CancelledError if the gather itself was cancelled.
  void finish_await();
  /// The awaiter is going. A child task still running keeps the state alive until it
  /// ends (close() always ends tasks); a plain future, which may never be set, is let go.
  void detach_child(FutureState& child) noexcept;
  /// The gather was never awaited: unregisters from the child, so that its exception is
  /// reported as never retrieved, as it would be with no gather.
  void abandon_child(FutureState& child) noexcept {
    if (!child.done() && child.remove_waiter(this)) --registered_;
  }
  /// The awaiter is gone; frees the state once no child refers to it.
  void drop() noexcept;

 private:
  static void on_child_done(Completion* c, FutureState& child);
  void wake() noexcept;

  std::size_t registered_ = 0;
  std::size_t remaining_ = 0;
  FutureState* first_error_ = nullptr;
  std::exception_ptr cancel_error_;  // set when the gather itself was cancelled
  TaskState* task_ = nullptr;
  bool return_exceptions_;
  bool started_ = false;
  bool woken_ = false;
  bool awaiter_alive_ = true;
};

}  // namespace aio::detail
