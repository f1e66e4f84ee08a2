#include "aio/core/task_group.hpp"

namespace aio {

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
  if (parent_cancel_requested_ && parent_.uncancel() == 0) propagate_cancel = nullptr;
  if (propagate_cancel && errors_.empty()) std::rethrow_exception(propagate_cancel);
  if (error && !is_cancelled_error(error)) errors_.push_back(error);
  if (!errors_.empty()) throw ExceptionGroup("unhandled errors in a TaskGroup", std::move(errors_));
}

}  // namespace aio
