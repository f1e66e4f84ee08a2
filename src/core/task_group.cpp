#include "aio/core/task_group.hpp"

namespace aio {
namespace {

/// asyncio's _is_base_error (KeyboardInterrupt, SystemExit: aio has only the first): an
/// error that ends the group as itself instead of inside an ExceptionGroup.
bool is_base_error(const std::exception_ptr& error) { return detail::holds<KeyboardInterrupt>(error); }

}  // namespace

TaskGroup::Child::Child(TaskGroup* g, detail::TaskState* s)
    : Completion(&TaskGroup::on_child_done), Runnable(&TaskGroup::run_child_done), group(g), task(s) {}

TaskGroup::TaskGroup() : parent_(current_task()) {
  if (!parent_) throw std::runtime_error("TaskGroup must be created inside a task");
}

TaskGroup::~TaskGroup() {
  while (Child* c = children_) {
    children_ = c->next;
    if (c->queued) {  // already in the ready queue: it frees itself when it runs
      c->group = nullptr;
      continue;
    }
    c->task.state()->remove_waiter(c);
    c->task.cancel();
    delete c;
  }
}

void TaskGroup::check_accepting() const {
  if (exiting_ && !children_) throw std::runtime_error("TaskGroup is finished");
  if (aborting_) throw std::runtime_error("TaskGroup is shutting down");
}

void TaskGroup::adopt(detail::TaskState* task) {
  auto* c = new Child(this, task);
  c->prev = last_child_;
  if (last_child_) last_child_->next = c;
  else children_ = c;
  last_child_ = c;
  task->add_waiter(c);
}

void TaskGroup::on_child_done(detail::Completion* node, detail::FutureState& s) {
  auto* c = static_cast<Child*>(node);
  c->queued = true;
  s.loop().schedule(c);
}

void TaskGroup::run_child_done(detail::Runnable* r) {
  auto* c = static_cast<Child*>(r);
  if (c->group) c->group->child_done(c);
  else delete c;
}

void TaskGroup::child_done(Child* c) {
  if (c->prev) c->prev->next = c->next;
  else children_ = c->next;
  if (c->next) c->next->prev = c->prev;
  else last_child_ = c->prev;
  TaskHandle<> task = std::move(c->task);
  delete c;
  if (!children_ && all_done_ && !all_done_.done()) all_done_.set_result();
  detail::TaskState& s = *task.state();
  if (s.cancelled() || !s.peek_error()) return;
  errors_.push_back(s.take_error());
  if (!base_error_ && is_base_error(errors_.back())) base_error_ = errors_.back();
  if (parent_.done()) return;
  if (!aborting_ && !parent_cancel_requested_) {
    // The first failure: stop the siblings and interrupt the body, as asyncio does.
    abort();
    parent_cancel_requested_ = true;
    parent_.cancel();
  }
}

void TaskGroup::abort() {
  aborting_ = true;
  for (Child* c = children_; c; c = c->next)
    if (!c->task.done()) c->task.cancel();
}

Task<> TaskGroup::exit(std::exception_ptr error) {
  exiting_ = true;
  if (error && !base_error_ && is_base_error(error)) base_error_ = error;
  std::exception_ptr propagate_cancel = is_cancelled_error(error) ? error : nullptr;
  if (error && !aborting_) abort();
  while (children_) {
    all_done_ = Future<>::create();
    try {
      co_await all_done_;
    } catch (const CancelledError&) {
      if (!aborting_) {
        propagate_cancel = std::current_exception();
        abort();
      }
    }
    all_done_ = {};
  }
  if (base_error_) {
    // As asyncio: raised before, and so without, undoing the group's cancel of the parent.
    report_suppressed(error);
    std::rethrow_exception(base_error_);
  }
  if (parent_cancel_requested_ && parent_.uncancel() == 0) propagate_cancel = nullptr;
  if (propagate_cancel && errors_.empty()) std::rethrow_exception(propagate_cancel);
  if (error && !is_cancelled_error(error)) errors_.push_back(error);
  if (!errors_.empty()) throw ExceptionGroup("unhandled errors in a TaskGroup", std::move(errors_));
}

void TaskGroup::report_suppressed(const std::exception_ptr& body_error) const {
  // asyncio reports the children's errors this way (gh-135736); the body's error would be
  // the KeyboardInterrupt's __context__ in Python, so it is reported too: nothing is lost.
  const std::string message =
      "TaskGroup task exception was not propagated because the TaskGroup body is being closed with a BaseException";
  auto& loop = get_running_loop();
  for (const auto& e : errors_)
    if (e != base_error_) loop.call_exception_handler({message, e, {}});
  if (body_error && body_error != base_error_ && !is_cancelled_error(body_error))
    loop.call_exception_handler({message, body_error, {}});
}

}  // namespace aio
