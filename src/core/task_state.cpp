#include "aio/core/detail/task_state.hpp"

#include <ostream>
#include <stdexcept>

#include "aio/core/errors.hpp"

namespace aio::detail {

// The hook of a task that has not run yet: it absorbs nothing, so cancel() sets
// must_cancel and the first step ends the task without running its body. Doubles as
// the "not started" mark, which saves a flag in every frame.
CancelHook TaskState::not_started{[](CancelHook*, std::string_view) { return false; }};
// Never called: cancel() recognises this hook and wakes the task itself.
CancelHook TaskState::wakes_on_cancel{[](CancelHook*, std::string_view) { return false; }};

void TaskState::start(LoopCore& loop, std::coroutine_handle<> root) {
  resume_point_ = root;
  cancel_hook_ = &not_started;
  loop_ = &loop;
  is_root_ = true;
  number_ = ++loop.task_counter;
  add_ref();  // the loop's, dropped when the task finishes
  link(loop);
  wake();
}

void TaskState::link(LoopCore& loop) noexcept {
  next_task_ = loop.tasks_head;
  if (next_task_) next_task_->prev_task_ = this;
  loop.tasks_head = this;
}

void TaskState::unlink() noexcept {
  if (prev_task_) prev_task_->next_task_ = next_task_;
  else if (loop_ && loop_->tasks_head == this) loop_->tasks_head = next_task_;
  if (next_task_) next_task_->prev_task_ = prev_task_;
  prev_task_ = next_task_ = nullptr;
}

// Cancelled before its first step: the body never runs.
void TaskState::end_before_first_step() noexcept {
  cancel_hook_ = nullptr;
  must_cancel_ = false;
  set_error(cancelled_error());
  complete();
}

bool TaskState::cancel(std::string_view message) {
  if (done()) return false;
  ++cancel_requests_;
  if (!message.empty() || cold_) cold().cancel_message = std::string(message);
  if (cancel_hook_ == &wakes_on_cancel) {
    cancel_hook_ = nullptr;
    must_cancel_ = true;
    wake();
    return true;
  }
  if (cancel_hook_) {
    CancelHook* hook = cancel_hook_;
    if (hook->cancel(hook, message)) return true;
  }
  must_cancel_ = true;
  return true;
}

void TaskState::throw_cancelled() {
  must_cancel_ = false;
  throw CancelledError(cold_ ? cold_->cancel_message : std::string());
}

std::exception_ptr TaskState::cancelled_error() const {
  return std::make_exception_ptr(CancelledError(cold_ ? cold_->cancel_message : std::string()));
}

void TaskState::complete() noexcept {
  if (must_cancel_ && !peek_error()) {  // cancelled during its last step: asyncio ends it cancelled
    must_cancel_ = false;
    set_error(cancelled_error());
  }
  Status outcome = Status::finished;
  if (peek_error() && is_cancelled_error(peek_error())) outcome = Status::cancelled;
  unlink();
  finish(outcome);
  release();  // the loop's reference: the frame may be gone after this
}

std::string TaskState::name() const {
  if (cold_ && !cold_->name.empty()) return cold_->name;
  return "Task-" + std::to_string(number_);
}

void TaskState::set_name(std::string name) {
  cold().name = std::move(name);
}

void TaskState::write_repr(std::ostream& os) const {
  os << "<Task " << state_word() << " name='" << name() << '\'';
  write_details(os);
  os << '>';
}

void throw_no_running_task() {
  throw std::runtime_error("no running task: an aio awaitable was awaited outside a task");
}

void detach_all_tasks(LoopCore& loop) noexcept {
  TaskState* t = loop.tasks_head;
  loop.tasks_head = nullptr;
  while (t) {
    TaskState* next = t->next_task_;
    t->prev_task_ = t->next_task_ = nullptr;
    t->release();  // the loop's reference: the frame goes now or with its last handle
    t = next;
  }
}

}  // namespace aio::detail
