#include <ostream>
#include <sstream>

#include "aio/core/event_loop.hpp"
#include "aio/core/log.hpp"

namespace aio::detail {

void FutureState::check_unusual_result() {
  if (status_ == Status::pending) throw InvalidStateError("Result is not set.");
  if (peek_error()) std::rethrow_exception(take_error());
}

const char* FutureState::state_word() const noexcept {
  switch (status_) {
    case Status::pending: return "pending";
    case Status::cancelled: return "cancelled";
    case Status::finished: return "finished";
  }
  return "?";
}

void FutureState::write_details(std::ostream& os) const {
  if (status_ != Status::finished) return;
  if (peek_error()) os << " exception=" << describe(peek_error());
  else write_result(os);
}

void FutureState::last_release() noexcept {
  if (log_error_) {
    // Python logs this from __del__; the handle made here keeps the state alive
    // while the handler looks at it, and dropping it comes back here with the flag clear.
    log_error_ = false;
    ExceptionContext context{is_task_ ? "Task exception was never retrieved" : "Future exception was never retrieved",
                             peek_error(), {}};
    if (is_task_) context.task = TaskHandle<>(static_cast<TaskState*>(this));
    else add_ref();
    auto* loop = static_cast<EventLoop*>(tls_loop);
    if (loop) {
      loop->call_exception_handler(context);
    } else {
      std::ostringstream text;
      text << context.message << "\nexception: " << describe(context.exception);
      log(LogLevel::error, text.str());
    }
    if (!is_task_) release();
    return;
  }
  // Done callbacks still registered on a state nobody can complete any more free themselves.
  notify_waiters();
  destroy();
}

namespace {
thread_local std::uint64_t next_callback_id = 0;
}

std::uint64_t DoneCallback::add(FutureState& s, Fn fn) {
  auto* cb = new DoneCallback(std::move(fn), ++next_callback_id);
  std::uint64_t id = cb->id_;
  if (s.done()) {
    cb->state_ = &s;
    s.add_ref();
    s.loop().schedule(cb);
  } else {
    s.add_waiter(cb);
  }
  return id;
}

std::size_t DoneCallback::remove(FutureState& s, std::uint64_t id) {
  DoneCallback* found = nullptr;
  s.for_each_waiter([&](Completion* c) {
    if (!found && is_done_callback(c) && static_cast<DoneCallback*>(c)->id_ == id) found = static_cast<DoneCallback*>(c);
  });
  if (!found) return 0;
  s.remove_waiter(found);
  delete found;
  return 1;
}

void DoneCallback::on_done(Completion* c, FutureState& s) {
  auto* self = static_cast<DoneCallback*>(c);
  if (!s.done()) {  // the state is being destroyed
    delete self;
    return;
  }
  self->state_ = &s;
  s.add_ref();
  s.loop().schedule(self);
}

void DoneCallback::discard(Runnable* r) noexcept {
  auto* self = static_cast<DoneCallback*>(r);
  FutureState* s = self->state_;
  delete self;
  s->release();
}

void DoneCallback::run_now(Runnable* r) {
  auto* self = static_cast<DoneCallback*>(r);
  FutureState* s = self->state_;
  try {
    self->fn_(*s);
  } catch (...) {
    ExceptionContext context{"Exception in callback", std::current_exception(), {}};
    if (s->is_task()) context.task = TaskHandle<>(static_cast<TaskState*>(s));
    static_cast<EventLoop&>(s->loop()).call_exception_handler(context);
  }
  delete self;
  s->release();
}

}  // namespace aio::detail
