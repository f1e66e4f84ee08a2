// aio::Condition: asyncio.Condition — wait() releases the lock, waits for notify() and
// takes the lock back (even when cancelled) before it returns or throws.
#pragma once
#include <cstddef>
#include <exception>
#include <limits>
#include <ostream>
#include <stdexcept>
#include <type_traits>

#include "../core/task.hpp"
#include "lock.hpp"

namespace aio {

class Condition {
 public:
  /// A condition with its own new Lock.
  Condition() noexcept : lock_(own_lock_) {}
  /// A condition sharing `lock` (which must outlive it).
  explicit Condition(Lock& lock) noexcept : lock_(lock) {}
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  /// The underlying lock's acquire(), release(), locked() and hold().
  [[nodiscard]] Lock::AcquireAwaiter acquire() noexcept { return lock_.acquire(); }
  void release() { lock_.release(); }
  bool locked() const noexcept { return lock_.locked(); }
  [[nodiscard]] auto hold() noexcept { return lock_.hold(); }
  Lock& lock() noexcept { return lock_; }

  /// Releases the lock, waits for notify(), takes the lock back and returns true.
  /// std::runtime_error when the lock is not held. May wake spuriously: re-check.
  Task<bool> wait();
  /// Waits until pred() is truthy and returns its last value; the lock must be held
  /// unless pred() is already true.
  template <class P>
  Task<std::decay_t<std::invoke_result_t<P&>>> wait_for(P pred) {
    auto result = pred();
    while (!result) {
      co_await wait();
      result = pred();
    }
    co_return result;
  }
  /// Wakes up to n waiters (FIFO); std::runtime_error when the lock is not held.
  void notify(std::size_t n = 1) {
    if (!locked()) throw std::runtime_error("cannot notify on un-acquired lock");
    notify_waiters(n);
  }
  void notify_all() { notify(std::numeric_limits<std::size_t>::max()); }

  friend std::ostream& operator<<(std::ostream& os, const Condition& c) {
    os << "<Condition [" << (c.locked() ? "locked" : "unlocked");
    if (std::size_t n = c.waiters_.size() + c.woken_) os << ", waiters:" << n;
    return os << "]>";
  }

 private:
  class NotifyAwaiter;
  void notify_waiters(std::size_t n) noexcept;

  Lock own_lock_;
  Lock& lock_;
  detail::WaitQueue waiters_;
  std::size_t woken_ = 0;
};

class Condition::NotifyAwaiter : detail::Waiter {
 public:
  explicit NotifyAwaiter(Condition& c) noexcept : Waiter(&NotifyAwaiter::on_cancel), cond_(&c) {}
  NotifyAwaiter(NotifyAwaiter&& o) noexcept : Waiter(std::move(o)), cond_(o.cond_) {}
  ~NotifyAwaiter() {
    if (state == detail::WaitState::waiting) cond_->waiters_.remove(this);
    else if (state == detail::WaitState::woken) --cond_->woken_;
  }
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    task = &detail::running_task();
    cond_->waiters_.push_back(this);
    state = detail::WaitState::waiting;
    task->suspend(h, this);
  }
  void await_resume() {
    if (state == detail::WaitState::woken) --cond_->woken_;
    state = detail::WaitState::idle;
    task->throw_if_cancel_pending();
  }

 private:
  friend class Condition;
  static bool on_cancel(CancelHook* h, std::string_view) {
    auto* self = static_cast<NotifyAwaiter*>(h);
    if (self->state == detail::WaitState::waiting) {
      self->cond_->waiters_.remove(self);
      self->state = detail::WaitState::cancelled;
      self->task->wake();
    }
    return false;
  }
  Condition* cond_;
};

inline void Condition::notify_waiters(std::size_t n) noexcept {
  for (; n > 0; --n) {
    detail::WaitNode* node = waiters_.pop_front();
    if (!node) return;
    auto* w = static_cast<NotifyAwaiter*>(static_cast<detail::Waiter*>(node));
    w->state = detail::WaitState::woken;
    ++woken_;
    w->task->wake();
  }
}

inline Task<bool> Condition::wait() {
  if (!locked()) throw std::runtime_error("cannot wait on un-acquired lock");
  release();
  std::exception_ptr error;
  try {
    co_await NotifyAwaiter(*this);
  } catch (...) {
    error = std::current_exception();
  }
  for (;;) {  // the lock comes back even when the wait was cancelled
    try {
      co_await lock_.acquire();
      break;
    } catch (const CancelledError&) {
      error = std::current_exception();
    }
  }
  if (error) {
    // We may have been notified just before the error: pass the notification on
    // (a spurious wake-up for someone, which the protocol allows).
    notify_waiters(1);
    std::rethrow_exception(error);
  }
  co_return true;
}

}  // namespace aio
