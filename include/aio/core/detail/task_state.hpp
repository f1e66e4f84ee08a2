// The scheduling half of a task: what the loop needs to step it, cancel it, name it
// and list it. Lives in the task's root coroutine frame, next to its promise.
#pragma once
#include <coroutine>
#include <memory>
#include <string>

#include "../errors.hpp"
#include "future_state.hpp"

namespace aio::detail {

class TaskState : public FutureState, public ReadyLink {
 public:
  TaskState() noexcept { is_task_ = true; }

  /// Turns a lazy coroutine into a scheduled task of `loop` (asyncio's create_task).
  void start(LoopCore& loop, std::coroutine_handle<> root);
  /// Runs the task until it next suspends (the loop calls this for a queued task).
  void step() {
    if (cancel_hook_ == &not_started && must_cancel_) [[unlikely]]
      return end_before_first_step();
    cancel_hook_ = nullptr;
    TaskState* previous = tls_current_task;
    tls_current_task = this;
    resume_point_.resume();
    tls_current_task = previous;
  }

  bool cancel(std::string_view message) override;
  int cancelling() const noexcept { return static_cast<int>(cancel_requests_); }
  int uncancel() noexcept {
    if (cancel_requests_ > 0 && --cancel_requests_ == 0) must_cancel_ = false;
    return static_cast<int>(cancel_requests_);
  }
  std::string name() const;
  void set_name(std::string name);
  void write_repr(std::ostream& os) const override;

  /// Suspends the task in an awaiter: `resume_at` is where the step resumes, `hook`
  /// (optional) what cancel() reaches.
  void suspend(std::coroutine_handle<> resume_at, CancelHook* hook = nullptr) noexcept {
    resume_point_ = resume_at;
    cancel_hook_ = hook;
  }
  /// Wakes the task: its next step runs in the loop's next iteration.
  void wake() noexcept { loop_->ready.push_task(this); }

  /// The hook for an awaiter whose only answer to cancel() is an early wake-up (a
  /// sleep): cancel() wakes the task, which raises CancelledError, and unhooks it. The
  /// awaiter then wakes it with wake_if_hooked(), so it is never queued twice, and
  /// undoes its own registration as the task resumes.
  static CancelHook wakes_on_cancel;
  /// Wakes a task suspended with wakes_on_cancel, unless cancel() already did.
  void wake_if_hooked() noexcept {
    if (cancel_hook_ != &wakes_on_cancel) return;
    cancel_hook_ = nullptr;
    wake();
  }

  /// Called by every aio awaiter as it resumes: delivers a pending cancellation.
  void throw_if_cancel_pending() {
    if (must_cancel_) [[unlikely]]
      throw_cancelled();
  }

 protected:
  /// The root coroutine ended: record the outcome, wake waiters, drop the loop's reference.
  void complete() noexcept;

  std::coroutine_handle<> resume_point_;  // root: where the next step resumes; nested frame: the awaiting parent

 private:
  static CancelHook not_started;
  void end_before_first_step() noexcept;
  [[noreturn]] void throw_cancelled();
  std::exception_ptr cancelled_error() const;
  void link(LoopCore& loop) noexcept;
  void unlink() noexcept;

  CancelHook* cancel_hook_ = nullptr;
  TaskState* prev_task_ = nullptr;
  TaskState* next_task_ = nullptr;
  std::uint32_t number_ = 0;
  std::uint16_t cancel_requests_ = 0;

 protected:
  bool is_root_ = false;

 private:
  bool must_cancel_ = false;

 public:
  /// The loop's list of unfinished tasks (all_tasks(), close()).
  TaskState* next_unfinished() const noexcept { return next_task_; }
  friend void detach_all_tasks(LoopCore& loop) noexcept;
};

[[noreturn]] void throw_no_running_task();

/// The running task's state; throws std::runtime_error outside a task.
inline TaskState& current_task_state() {
  if (!tls_current_task) [[unlikely]]
    throw_no_running_task();
  return *tls_current_task;
}

/// Close(): forget the loop's tasks (the frames go when their last handle does).
void detach_all_tasks(LoopCore& loop) noexcept;

}  // namespace aio::detail
