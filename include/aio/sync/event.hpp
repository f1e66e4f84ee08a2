// aio::Event: asyncio.Event — set() wakes every waiter, in the order they started waiting.
#pragma once
#include <ostream>

#include "detail/waiters.hpp"

namespace aio {

class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  bool is_set() const noexcept { return value_; }
  /// Sets the flag and wakes all waiters (FIFO); later wait()s return at once.
  void set() noexcept;
  void clear() noexcept { value_ = false; }

  class WaitAwaiter;
  /// co_await: true once the flag is set (at once when it already is).
  [[nodiscard]] WaitAwaiter wait() noexcept;

  /// "<Event [set, waiters:1]>", asyncio's repr without the address.
  friend std::ostream& operator<<(std::ostream& os, const Event& e) {
    os << "<Event [" << (e.value_ ? "set" : "unset");
    if (std::size_t n = e.waiters_.size() + e.woken_) os << ", waiters:" << n;
    return os << "]>";
  }

 private:
  detail::WaitQueue waiters_;
  std::size_t woken_ = 0;  // woken, not yet resumed: still "waiters" for asyncio's repr
  bool value_ = false;
};

class Event::WaitAwaiter : detail::Waiter {
 public:
  explicit WaitAwaiter(Event& e) noexcept : Waiter(&WaitAwaiter::on_cancel), event_(&e) {}
  WaitAwaiter(WaitAwaiter&& o) noexcept : Waiter(std::move(o)), event_(o.event_) {}
  ~WaitAwaiter() {
    if (state == detail::WaitState::waiting) event_->waiters_.remove(this);
    else if (state == detail::WaitState::woken) --event_->woken_;
  }
  bool await_ready() const noexcept { return event_->value_; }
  void await_suspend(std::coroutine_handle<> h) {
    task = &detail::running_task();
    event_->waiters_.push_back(this);
    state = detail::WaitState::waiting;
    task->suspend(h, this);
  }
  bool await_resume() {
    if (state == detail::WaitState::woken) --event_->woken_;
    state = detail::WaitState::idle;
    if (task) task->throw_if_cancel_pending();
    return true;
  }

 private:
  friend class Event;
  static bool on_cancel(CancelHook* h, std::string_view) {
    auto* self = static_cast<WaitAwaiter*>(h);
    if (self->state == detail::WaitState::waiting) {
      self->event_->waiters_.remove(self);
      self->state = detail::WaitState::cancelled;
      self->task->wake();
    }
    return false;
  }
  Event* event_;
};

inline Event::WaitAwaiter Event::wait() noexcept { return WaitAwaiter(*this); }

inline void Event::set() noexcept {
  if (value_) return;
  value_ = true;
  while (detail::WaitNode* n = waiters_.pop_front()) {
    auto* w = static_cast<WaitAwaiter*>(static_cast<detail::Waiter*>(n));
    w->state = detail::WaitState::woken;
    ++woken_;
    w->task->wake();
  }
}

}  // namespace aio
