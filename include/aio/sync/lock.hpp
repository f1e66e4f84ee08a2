// aio::Lock: asyncio.Lock — fair (FIFO), a releasing task never barges ahead of waiters.
#pragma once
#include <ostream>
#include <stdexcept>

#include "detail/waiters.hpp"

namespace aio {

/// A mutual-exclusion lock for tasks (not threads). `co_await lock.acquire()` waits its
/// turn in FIFO order; `auto held = co_await lock.hold();` is `async with lock:`.
class Lock {
 public:
  Lock() = default;
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

  class AcquireAwaiter;
  /// co_await: true once the lock is ours. A cancelled waiter never ends up holding it.
  [[nodiscard]] AcquireAwaiter acquire() noexcept;
  /// co_await: a Held<Lock> guard that releases the lock when it goes out of scope.
  [[nodiscard]] auto hold() noexcept;
  /// Unlocks and lets the first waiter in; std::runtime_error when not locked.
  void release() {
    if (!locked_) throw std::runtime_error("Lock is not acquired.");
    locked_ = false;
    wake_up_first();
  }
  bool locked() const noexcept { return locked_; }

  /// "<Lock [locked, waiters:1]>", asyncio's repr without the address.
  friend std::ostream& operator<<(std::ostream& os, const Lock& l) {
    os << "<Lock [" << (l.locked_ ? "locked" : "unlocked");
    if (std::size_t n = l.waiters_.size() + l.woken_) os << ", waiters:" << n;
    return os << "]>";
  }

 private:
  // asyncio keeps a woken waiter in _waiters until it runs, so nobody can take the lock
  // in between: woken_ counts those.
  bool free_for_newcomer() const noexcept { return !locked_ && waiters_.empty() && woken_ == 0; }
  void wake_up_first() noexcept;

  detail::WaitQueue waiters_;
  std::size_t woken_ = 0;
  bool locked_ = false;
};

class Lock::AcquireAwaiter : detail::Waiter {
 public:
  explicit AcquireAwaiter(Lock& lock) noexcept : Waiter(&AcquireAwaiter::on_cancel), lock_(&lock) {}
  AcquireAwaiter(AcquireAwaiter&& o) noexcept : Waiter(std::move(o)), lock_(o.lock_) {}
  ~AcquireAwaiter() {
    if (state == detail::WaitState::waiting) {
      lock_->waiters_.remove(this);  // the frame went while waiting
    } else if (state == detail::WaitState::woken) {
      --lock_->woken_;
      if (!lock_->locked_) lock_->wake_up_first();
    }
  }
  bool await_ready() noexcept {
    if (!lock_->free_for_newcomer()) return false;
    lock_->locked_ = true;
    return true;
  }
  void await_suspend(std::coroutine_handle<> h) {
    task = &detail::running_task();
    lock_->waiters_.push_back(this);
    state = detail::WaitState::waiting;
    task->suspend(h, this);
  }
  bool await_resume() {
    if (state == detail::WaitState::idle) return true;  // taken at once
    if (state == detail::WaitState::woken) --lock_->woken_;
    state = detail::WaitState::idle;
    try {
      task->throw_if_cancel_pending();
    } catch (...) {
      if (!lock_->locked_) lock_->wake_up_first();  // pass our turn on
      throw;
    }
    lock_->locked_ = true;
    return true;
  }

 private:
  friend class Lock;
  static bool on_cancel(CancelHook* h, std::string_view) {
    auto* self = static_cast<AcquireAwaiter*>(h);
    if (self->state == detail::WaitState::waiting) {
      self->lock_->waiters_.remove(self);
      self->state = detail::WaitState::cancelled;
      self->task->wake();
    }
    return false;  // CancelledError at the wake-up; a woken waiter gives its turn away there
  }
  Lock* lock_;
};

inline Lock::AcquireAwaiter Lock::acquire() noexcept { return AcquireAwaiter(*this); }

inline auto Lock::hold() noexcept { return detail::HoldAwaiter<Held<Lock>, AcquireAwaiter>(*this, *this); }

inline void Lock::wake_up_first() noexcept {
  if (woken_ != 0 || waiters_.empty()) return;  // the first in line is already on its way
  auto* w = static_cast<AcquireAwaiter*>(static_cast<detail::Waiter*>(waiters_.pop_front()));
  w->state = detail::WaitState::woken;
  ++woken_;
  w->task->wake();
}

}  // namespace aio
