// The scheduling half of a task: what the loop needs to step it, cancel it, name it
// and list it. Lives in the task's root coroutine frame, next to its promise.
#pragma once
#include <coroutine>
#include <memory>
#include <string>

#include "../errors.hpp"
#include "future_state.hpp"

namespace aio::detail {

/// Rarely used task data, allocated on first use so the frame stays small.
struct TaskExtras {
  std::string name;
  std::string cancel_message;
};

class TaskState : public FutureState, public Runnable {
 public:
  TaskState() noexcept : Runnable(&TaskState::step) { is_task_ = true; }

  /// Turns a lazy coroutine into a scheduled task of `loop` (asyncio's create_task).
  void start(LoopCore& loop, std::string name, std::coroutine_handle<> root);
  /// True when r is a task's step (as opposed to a callback) in the ready queue.
  static bool is_step(const Runnable* r) noexcept;

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
  void wake() noexcept { loop_->schedule(this); }

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
  static void step(Runnable* self);
  static CancelHook not_started;
  [[noreturn]] void throw_cancelled();
  void link(LoopCore& loop) noexcept;
  void unlink() noexcept;

  CancelHook* cancel_hook_ = nullptr;
  TaskState* prev_task_ = nullptr;
  TaskState* next_task_ = nullptr;
  std::unique_ptr<TaskExtras> extras_;
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

/// The running task's state; throws std::runtime_error outside a task.
TaskState& current_task_state();

/// Close(): forget the loop's tasks (the frames go when their last handle does).
void detach_all_tasks(LoopCore& loop) noexcept;

}  // namespace aio::detail
