#include "aio/core/task_group.hpp"

namespace aio {

TaskGroup::Child::Child(TaskGroup* g, detail::TaskState* s)
    : Completion(&TaskGroup::on_child_done), group(g), task(s) {}

TaskGroup::TaskGroup() : parent_(current_task()) {
  if (!parent_) throw std::runtime_error("TaskGroup must be created inside a task");
}

TaskGroup::~TaskGroup() {
  while (Child* c = children_) {
    children_ = c->next;
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
  c->next = children_;
  if (children_) children_->prev = c;
  children_ = c;
  task->add_waiter(c);
}

void TaskGroup::on_child_done(detail::Completion* node, detail::FutureState& s) {
  auto* c = static_cast<Child*>(node);
  TaskGroup* g = c->group;
  if (c->prev) c->prev->next = c->next;
  else g->children_ = c->next;
  if (c->next) c->next->prev = c->prev;
  delete c;
  if (!g->children_ && g->all_done_ && !g->all_done_.done()) g->all_done_.set_result();
  if (!s.done() || s.cancelled() || !s.peek_error()) return;
  g->errors_.push_back(s.take_error());
  if (g->parent_.done()) return;
  if (!g->aborting_ && !g->parent_cancel_requested_) {
    // The first failure: stop the siblings and interrupt the body, as asyncio does.
    g->abort();
    g->parent_cancel_requested_ = true;
    g->parent_.cancel();
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
