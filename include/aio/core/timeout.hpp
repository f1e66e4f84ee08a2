// aio::timeout / timeout_at / wait_for: asyncio.timeout() and wait_for(). The deadline
// cancels the current task; leaving the scope turns that cancellation into TimeoutError.
#pragma once
#include <optional>

#include "detail/awaitable.hpp"
#include "detail/task_state.hpp"
#include "task.hpp"
#include "time.hpp"

namespace aio {
namespace detail {

/// The deadline shared by the Timeout context manager and the one-awaitable forms.
class Deadline : TimerEntry {
 public:
  Deadline() noexcept : TimerEntry(&Deadline::expire) {}
  Deadline(Deadline&& o) noexcept : Deadline() { when_ns_ = o.when_ns_; }
  ~Deadline() { disarm(); }

  void set_when(std::optional<std::int64_t> when_ns) noexcept { when_ns_ = when_ns; }
  std::optional<std::int64_t> when_ns() const noexcept { return when_ns_; }
  bool expired() const noexcept { return expired_; }

  /// Enters the scope in the running task and arms the timer.
  void enter() {
    task_ = &current_task_state();
    cancelling_at_enter_ = task_->cancelling();
    arm();
  }
  void reschedule(std::optional<std::int64_t> when_ns) {
    disarm();
    when_ns_ = when_ns;
    if (task_) arm();
  }
  /// Leaves the scope: true when the deadline's own cancellation should become TimeoutError.
  bool exit() noexcept {
    disarm();
    return expired_ && task_->uncancel() <= cancelling_at_enter_;  // expired_ implies entered
  }

 private:
  void arm() {
    if (when_ns_ && !expired_) task_->loop().arm_timer(this, *when_ns_);
  }
  void disarm() noexcept {
    if (armed()) task_->loop().disarm_timer(this);
  }
  static void expire(TimerEntry* e) {
    auto* self = static_cast<Deadline*>(e);
    self->expired_ = true;
    self->task_->cancel({});
  }

  std::optional<std::int64_t> when_ns_;
  TaskState* task_ = nullptr;
  int cancelling_at_enter_ = 0;
  bool expired_ = false;
};

inline std::coroutine_handle<> as_handle(bool suspend, std::coroutine_handle<> h) noexcept {
  return suspend ? std::noop_coroutine() : h;
}

/// co_await on `aw` under a deadline, without a coroutine frame of its own.
template <class A>
class TimeoutAwaiter {
 public:
  using Inner = decltype(get_awaiter(std::declval<A>()));
  using Value = await_result_t<A>;

  /// skip: wait_for(coroutine, timeout <= 0) — as asyncio, the coroutine never starts.
  TimeoutAwaiter(A&& aw, std::optional<std::int64_t> when_ns, bool skip = false)
      : aw_(std::forward<A>(aw)), inner_(get_awaiter(std::forward<A>(aw_))), skip_(skip) {
    deadline_.set_when(when_ns);
  }

  /// Movable until awaited, so that ensure_future(wait_for(...)) can make it a task.
  TimeoutAwaiter(TimeoutAwaiter&& o)
      : aw_(std::forward<A>(o.aw_)),
        inner_(get_awaiter(std::forward<A>(aw_))),
        deadline_(std::move(o.deadline_)),
        skip_(o.skip_) {}

  bool await_ready() { return skip_ || inner_.await_ready(); }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> h) {
    deadline_.enter();
    using R = decltype(inner_.await_suspend(h));
    if constexpr (std::is_void_v<R>) {
      inner_.await_suspend(h);
      return std::noop_coroutine();
    } else if constexpr (std::is_same_v<R, bool>) {
      return as_handle(inner_.await_suspend(h), h);
    } else {
      return inner_.await_suspend(h);
    }
  }
  Value await_resume() {
    if (skip_) throw TimeoutError();
    // The inner awaiter resumes first: a cancellation the deadline left pending on the task
    // (a sleep's hook does not take it over) is delivered there, and only then uncancelled.
    struct Leave {
      Deadline& deadline;
      bool left = false;
      ~Leave() {
        if (!left) deadline.exit();
      }
    } leave{deadline_};
    try {
      return inner_.await_resume();
    } catch (...) {
      leave.left = true;
      if (deadline_.exit()) {
        try {
          throw;
        } catch (const CancelledError&) {
          throw TimeoutError();
        }
      }
      throw;
    }
  }

 private:
  A aw_;
  Inner inner_;
  Deadline deadline_;
  bool skip_ = false;
};

template <Delay D>
std::optional<std::int64_t> deadline_after(const std::optional<D>& delay) {
  if (!delay) return std::nullopt;
  return thread_loop().now_ns() + to_ns(*delay);
}
inline std::optional<std::int64_t> deadline_at(std::optional<double> when) {
  if (!when) return std::nullopt;
  return to_ns(*when);
}

}  // namespace detail

/// asyncio.Timeout: `co_await aio::with(aio::timeout(1.5), [&](aio::Timeout& cm) -> aio::Task<R> {...})`.
/// When the deadline passes the task is cancelled; leaving the scope raises TimeoutError instead.
class Timeout {
 public:
  explicit Timeout(std::optional<std::int64_t> when_ns) { deadline_.set_when(when_ns); }
  Timeout(Timeout&&) noexcept = default;

  /// The deadline in loop.time() seconds; nullopt when there is none.
  std::optional<double> when() const noexcept {
    auto ns = deadline_.when_ns();
    return ns ? std::optional<double>(static_cast<double>(*ns) / 1e9) : std::nullopt;
  }
  /// A new deadline (loop.time() seconds; nullopt: none). Only inside the scope, as asyncio:
  /// std::runtime_error before it is entered or once it is left.
  void reschedule(std::optional<double> when) {
    if (state_ == State::created) throw std::runtime_error("Timeout has not been entered");
    if (state_ == State::exited)
      throw std::runtime_error(expired() ? "Cannot change state of expired Timeout"
                                         : "Cannot change state of finished Timeout");
    deadline_.reschedule(detail::deadline_at(when));
  }
  bool expired() const noexcept { return deadline_.expired(); }

  Task<Timeout&> aenter() {
    if (state_ != State::created) throw std::runtime_error("Timeout has already been entered");
    deadline_.enter();
    state_ = State::entered;
    co_return *this;
  }
  Task<> aexit(std::exception_ptr error) {
    state_ = State::exited;
    if (deadline_.exit() && is_cancelled_error(error)) throw TimeoutError();
    co_return;
  }

 private:
  enum class State : unsigned char { created, entered, exited };
  detail::Deadline deadline_;
  State state_ = State::created;
};

/// A Timeout context manager `delay` from now (nullopt: no deadline, reschedule() later).
template <Delay D>
[[nodiscard]] Timeout timeout(std::optional<D> delay) {
  return Timeout(detail::deadline_after(delay));
}
template <Delay D>
[[nodiscard]] Timeout timeout(D delay) {
  return timeout(std::optional<D>(delay));
}
[[nodiscard]] inline Timeout timeout(std::nullopt_t) { return Timeout(std::nullopt); }
/// A Timeout context manager ending at loop.time() `when`.
[[nodiscard]] inline Timeout timeout_at(std::optional<double> when) { return Timeout(detail::deadline_at(when)); }

/// co_await timeout(delay, aw): awaits aw; TimeoutError if it takes longer than delay.
template <Delay D, Awaitable A>
[[nodiscard]] auto timeout(D delay, A&& aw) {
  return detail::TimeoutAwaiter<A>(std::forward<A>(aw), detail::deadline_after(std::optional<D>(delay)));
}
template <Awaitable A>
[[nodiscard]] auto timeout_at(std::optional<double> when, A&& aw) {
  return detail::TimeoutAwaiter<A>(std::forward<A>(aw), detail::deadline_at(when));
}

/// asyncio.wait_for: awaits aw for at most `timeout` (nullopt: no limit); on expiry the
/// awaited work is cancelled, waited for, and TimeoutError raised.
/// A lazy Task given a timeout <= 0 never starts: TimeoutError (asyncio creates the task and
/// cancels it before its first step); a TaskHandle or Future is cancelled and awaited.
template <Awaitable A, Delay D>
[[nodiscard]] auto wait_for(A&& aw, std::optional<D> timeout) {
  bool skip = false;
  if constexpr (detail::is_task_v<std::remove_cvref_t<A>>) skip = timeout && detail::to_ns(*timeout) <= 0;
  return detail::TimeoutAwaiter<A>(std::forward<A>(aw), detail::deadline_after(timeout), skip);
}
template <Awaitable A, Delay D>
[[nodiscard]] auto wait_for(A&& aw, D timeout) {
  return wait_for(std::forward<A>(aw), std::optional<D>(timeout));
}

}  // namespace aio
