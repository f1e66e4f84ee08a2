#include "aio/core/detail/task_state.hpp"

#include <ostream>
#include <stdexcept>

#include "aio/core/errors.hpp"

namespace aio::detail {

// The hook of a task that has not run yet: it absorbs nothing, so cancel() sets
// must_cancel and the first step ends the task without running its body. Doubles as
// the "not started" mark, which saves a flag in every frame.
CancelHook TaskState::not_started{[](CancelHook*, std::string_view) { return false; }};

void TaskState::start(LoopCore& loop, std::string name, std::coroutine_handle<> root) {
  resume_point_ = root;
  cancel_hook_ = &not_started;
  loop_ = &loop;
  is_root_ = true;
  number_ = ++loop.task_counter;
  if (!name.empty()) set_name(std::move(name));
  add_ref();  // the loop's, dropped when the task finishes
  link(loop);
  loop.schedule(this);
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

void TaskState::step(Runnable* self) {
  auto* task = static_cast<TaskState*>(self);
  const bool first_step = task->cancel_hook_ == &not_started;
  task->cancel_hook_ = nullptr;
  if (first_step) {
    if (task->must_cancel_) {  // cancelled before its first step: the body never runs
      task->must_cancel_ = false;
      task->error_ = std::make_exception_ptr(
          CancelledError(task->extras_ ? task->extras_->cancel_message : std::string()));
      task->complete();
      return;
    }
  }
  TaskState* previous = tls_current_task;
  tls_current_task = task;
  task->resume_point_.resume();
  tls_current_task = previous;
}

bool TaskState::cancel(std::string_view message) {
  if (done()) return false;
  ++cancel_requests_;
  if (!message.empty() || extras_) {
    if (!extras_) extras_ = std::make_unique<TaskExtras>();
    extras_->cancel_message = std::string(message);
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
  throw CancelledError(extras_ ? extras_->cancel_message : std::string());
}

void TaskState::complete() noexcept {
  if (must_cancel_ && !error_) {  // cancelled during its last step: asyncio ends it cancelled
    must_cancel_ = false;
    error_ = std::make_exception_ptr(CancelledError(extras_ ? extras_->cancel_message : std::string()));
  }
  Status outcome = Status::finished;
  if (error_ && is_cancelled_error(error_)) outcome = Status::cancelled;
  unlink();
  finish(outcome);
  release();  // the loop's reference: the frame may be gone after this
}

std::string TaskState::name() const {
  if (extras_ && !extras_->name.empty()) return extras_->name;
  return "Task-" + std::to_string(number_);
}

void TaskState::set_name(std::string name) {
  if (!extras_) extras_ = std::make_unique<TaskExtras>();
  extras_->name = std::move(name);
}

void TaskState::write_repr(std::ostream& os) const {
  os << "<Task " << state_word() << " name='" << name() << '\'';
  write_details(os);
  os << '>';
}

bool TaskState::is_step(const Runnable* r) noexcept { return r->run == &TaskState::step; }

TaskState& current_task_state() {
  if (!tls_current_task) throw std::runtime_error("no running task: an aio awaitable was awaited outside a task");
  return *tls_current_task;
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
