// aio::Semaphore, aio::BoundedSemaphore: asyncio's — FIFO, a release hands its permit
// straight to the first waiter, and a cancelled waiter never keeps one.
#pragma once
#include <ostream>
#include <stdexcept>

#include "detail/waiters.hpp"

namespace aio {

class Semaphore {
 public:
  /// std::invalid_argument when value < 0.
  explicit Semaphore(int value = 1) : value_(value) {
    if (value < 0) throw std::invalid_argument("Semaphore initial value must be >= 0");
  }
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  class AcquireAwaiter;
  /// co_await: true once a permit is ours; waits its turn even when permits are free
  /// but others wait (FIFO).
  [[nodiscard]] AcquireAwaiter acquire() noexcept;
  [[nodiscard]] auto hold() noexcept;
  /// Gives a permit back; the first waiter gets it.
  void release() noexcept {
    ++value_;
    wake_up_next();
  }
  /// True when acquire() would wait.
  bool locked() const noexcept { return value_ == 0 || !waiters_.empty() || woken_ != 0; }
  /// The free permits (asyncio's _value).
  int value() const noexcept { return value_; }

  friend std::ostream& operator<<(std::ostream& os, const Semaphore& s) { return s.write(os, "Semaphore"); }

 protected:
  std::ostream& write(std::ostream& os, const char* name) const {
    os << '<' << name << " [";
    if (locked()) os << "locked";
    else os << "unlocked, value:" << value_;
    if (std::size_t n = waiters_.size() + woken_) os << ", waiters:" << n;
    return os << "]>";
  }
  int value_;

 private:
  bool wake_up_next() noexcept;
  void wake_while_free() noexcept {
    while (value_ > 0 && wake_up_next()) {
    }
  }

  detail::WaitQueue waiters_;
  std::size_t woken_ = 0;  // woken with a permit, not yet resumed
};

class Semaphore::AcquireAwaiter : detail::Waiter {
 public:
  explicit AcquireAwaiter(Semaphore& s) noexcept : Waiter(&AcquireAwaiter::on_cancel), sem_(&s) {}
  AcquireAwaiter(AcquireAwaiter&& o) noexcept : Waiter(std::move(o)), sem_(o.sem_) {}
  ~AcquireAwaiter() {
    if (state == detail::WaitState::waiting) {
      sem_->waiters_.remove(this);
    } else if (state == detail::WaitState::woken) {  // the frame went with a permit in hand
      --sem_->woken_;
      ++sem_->value_;
      sem_->wake_while_free();
    }
  }
  bool await_ready() noexcept {
    if (sem_->locked()) return false;
    --sem_->value_;
    return true;
  }
  void await_suspend(std::coroutine_handle<> h) {
    task = &detail::running_task();
    sem_->waiters_.push_back(this);
    state = detail::WaitState::waiting;
    task->suspend(h, this);
  }
  bool await_resume() {
    if (state == detail::WaitState::idle) return true;
    const bool granted = state == detail::WaitState::woken;
    if (granted) --sem_->woken_;
    state = detail::WaitState::idle;
    try {
      task->throw_if_cancel_pending();
    } catch (...) {
      if (granted) ++sem_->value_;  // the permit goes back, to the next in line
      sem_->wake_while_free();
      throw;
    }
    sem_->wake_while_free();
    return true;
  }

 private:
  friend class Semaphore;
  static bool on_cancel(CancelHook* h, std::string_view) {
    auto* self = static_cast<AcquireAwaiter*>(h);
    if (self->state == detail::WaitState::waiting) {
      self->sem_->waiters_.remove(self);
      self->state = detail::WaitState::cancelled;
      self->task->wake();
    }
    return false;
  }
  Semaphore* sem_;
};

inline Semaphore::AcquireAwaiter Semaphore::acquire() noexcept { return AcquireAwaiter(*this); }

inline auto Semaphore::hold() noexcept {
  return detail::HoldAwaiter<Held<Semaphore>, AcquireAwaiter>(*this, *this);
}

inline bool Semaphore::wake_up_next() noexcept {
  detail::WaitNode* n = waiters_.pop_front();
  if (!n) return false;
  auto* w = static_cast<AcquireAwaiter*>(static_cast<detail::Waiter*>(n));
  --value_;
  ++woken_;
  w->state = detail::WaitState::woken;
  w->task->wake();
  return true;
}

/// A Semaphore whose release() throws std::invalid_argument past the initial value.
class BoundedSemaphore : public Semaphore {
 public:
  explicit BoundedSemaphore(int value = 1) : Semaphore(value), bound_(value) {}

  void release() {
    if (value_ >= bound_) throw std::invalid_argument("BoundedSemaphore released too many times");
    Semaphore::release();
  }
  [[nodiscard]] auto hold() noexcept {
    return detail::HoldAwaiter<Held<BoundedSemaphore>, AcquireAwaiter>(*this, *this);
  }

  friend std::ostream& operator<<(std::ostream& os, const BoundedSemaphore& s) {
    return s.write(os, "BoundedSemaphore");
  }

 private:
  int bound_;
};

}  // namespace aio
