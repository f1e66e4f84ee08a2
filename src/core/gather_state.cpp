#include "aio/core/detail/gather_state.hpp"

#include "aio/core/errors.hpp"

namespace aio::detail {

void GatherState::suspend(std::coroutine_handle<> h, CancelHook* hook) {
  task_ = &current_task_state();
  task_->suspend(h, hook);
}

void GatherState::wake() noexcept {
  if (woken_ || !task_) return;
  woken_ = true;
  task_->wake();
}

void GatherState::on_child_done(Completion* c, FutureState& child) {
  auto* self = static_cast<GatherState*>(c);
  --self->registered_;
  --self->remaining_;
  if (child.done()) {
    if (!self->awaiter_alive_ || self->woken_ || self->first_error_) {
      child.take_error();  // finished after the gather was decided: its error counts as seen
    } else if (!self->return_exceptions_ && child.peek_error()) {
      self->first_error_ = &child;
      self->wake();
    } else if (self->remaining_ == 0) {
      self->wake();
    }
  }
  if (!self->awaiter_alive_ && self->registered_ == 0) delete self;
}

void GatherState::finish_await() {
  if (task_) task_->throw_if_cancel_pending();
  if (first_error_) std::rethrow_exception(first_error_->take_error());
  if (cancel_error_) std::rethrow_exception(cancel_error_);
}

void GatherState::detach_child(FutureState& child) noexcept {
  if (started_ && !child.done() && !child.is_task() && child.remove_waiter(this)) --registered_;
}

void GatherState::drop() noexcept {
  awaiter_alive_ = false;
  task_ = nullptr;
  if (registered_ == 0) delete this;
}

}  // namespace aio::detail
