// aio::sleep: asyncio.sleep — a timer entry inside the awaiting frame, no allocation.
#pragma once
#include <utility>

#include "detail/task_state.hpp"
#include "time.hpp"

namespace aio {
namespace detail {

/// 32 bytes in the sleeping frame: a timer entry and the task. Cancellation needs no hook
/// object of its own (TaskState::wakes_on_cancel): the early wake-up leaves the timer armed
/// until the task resumes.
class SleepAwaiter : TimerEntry {
 public:
  explicit SleepAwaiter(std::int64_t delay_ns) noexcept : TimerEntry(&SleepAwaiter::fire_now) {
    deadline_ns = delay_ns;  // the delay until armed: one field less in every sleeping frame
  }
  SleepAwaiter(SleepAwaiter&& o) noexcept : SleepAwaiter(o.deadline_ns) {}
  ~SleepAwaiter() {
    if (armed()) task_->loop().disarm_timer(this);  // the frame was destroyed while asleep
  }
  bool await_ready() const noexcept { return false; }  // even sleep(0) yields once
  void await_suspend(std::coroutine_handle<> h) {
    task_ = &current_task_state();
    if (deadline_ns <= 0) {
      task_->suspend(h);
      task_->wake();
    } else {
      LoopCore& loop = task_->loop();
      loop.arm_timer(this, loop.now_ns() + deadline_ns);
      task_->suspend(h, &TaskState::wakes_on_cancel);
    }
  }
  void await_resume() {
    if (armed()) task_->loop().disarm_timer(this);  // woken early by cancel()
    task_->throw_if_cancel_pending();
  }

 private:
  static void fire_now(TimerEntry* e) { static_cast<SleepAwaiter*>(e)->task_->wake_if_hooked(); }

  TaskState* task_ = nullptr;
};

template <class T>
class SleepValueAwaiter : public SleepAwaiter {
 public:
  SleepValueAwaiter(std::int64_t delay_ns, T value) : SleepAwaiter(delay_ns), value_(std::move(value)) {}
  T await_resume() {
    SleepAwaiter::await_resume();
    return std::move(value_);
  }

 private:
  T value_;
};

}  // namespace detail

/// Suspends the task for `delay` (seconds as a double, or a chrono duration). sleep(0)
/// yields to the loop exactly once; NaN throws std::invalid_argument.
template <Delay D>
[[nodiscard]] detail::SleepAwaiter sleep(D delay) {
  return detail::SleepAwaiter(detail::to_ns(delay));
}

/// Sleeps, then gives back `value` (asyncio.sleep(delay, result)).
template <Delay D, class T>
[[nodiscard]] detail::SleepValueAwaiter<T> sleep(D delay, T value) {
  return detail::SleepValueAwaiter<T>(detail::to_ns(delay), std::move(value));
}

}  // namespace aio
