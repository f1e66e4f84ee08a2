#include "aio/core/detail/gather_state.hpp"

#include "aio/core/errors.hpp"

namespace aio::detail {

GatherState::GatherState(std::vector<FutureState*> children, bool return_exceptions)
    : CancelHook(&GatherState::on_cancel),
      nodes_(new Node[children.size()]),
      count_(children.size()),
      return_exceptions_(return_exceptions) {
  for (std::size_t i = 0; i < count_; ++i) {
    nodes_[i].owner = this;
    nodes_[i].child = children[i];
    children[i]->add_ref();
  }
}

GatherState::~GatherState() {
  for (std::size_t i = 0; i < count_; ++i) nodes_[i].child->release();
}

bool GatherState::start() {
  for (std::size_t i = 0; i < count_; ++i) {
    Node& n = nodes_[i];
    if (n.child->done()) {
      if (!return_exceptions_ && !first_error_ && n.child->peek_error()) first_error_ = n.child;
      continue;
    }
    n.child->add_waiter(&n);
    n.registered = true;
    ++registered_;
    ++remaining_;
  }
  return remaining_ > 0 && !first_error_;
}

void GatherState::suspend(std::coroutine_handle<> h) {
  task_ = &current_task_state();
  task_->suspend(h, this);
}

void GatherState::wake() noexcept {
  if (woken_ || !task_) return;
  woken_ = true;
  task_->wake();
}

void GatherState::on_child_done(Completion* c, FutureState& child) {
  auto* node = static_cast<Node*>(c);
  GatherState* self = node->owner;
  node->registered = false;
  --self->registered_;
  --self->remaining_;
  if (child.done()) {
    if (!self->awaiter_alive_ || self->woken_) {
      child.take_error();  // finished after the gather was decided: its error counts as seen
    } else if (!self->return_exceptions_ && child.peek_error()) {
      self->first_error_ = &child;
      self->wake();
    } else if (self->remaining_ == 0) {
      self->wake();
    }
  }
  self->maybe_free();
}

bool GatherState::on_cancel(CancelHook* h, std::string_view message) {
  auto* self = static_cast<GatherState*>(h);
  bool any = false;
  for (std::size_t i = 0; i < self->count_; ++i)
    if (self->nodes_[i].child->cancel(message)) any = true;
  if (any) self->cancel_requested_ = true;
  return any;
}

void GatherState::finish_await() {
  if (task_) task_->throw_if_cancel_pending();
  if (first_error_) std::rethrow_exception(first_error_->take_error());
  if (cancel_requested_) throw CancelledError();
}

void GatherState::drop() noexcept {
  // Children that are tasks always finish (close() cancels them), so the state may wait
  // for them; a plain future may never be set, so the state lets go of those now.
  for (std::size_t i = 0; i < count_; ++i) {
    Node& n = nodes_[i];
    if (n.registered && !n.child->is_task()) {
      n.child->remove_waiter(&n);
      n.registered = false;
      --registered_;
    }
  }
  awaiter_alive_ = false;
  task_ = nullptr;
  maybe_free();
}

void GatherState::maybe_free() noexcept {
  if (awaiter_alive_ || registered_ > 0) return;
  delete this;
}

}  // namespace aio::detail
