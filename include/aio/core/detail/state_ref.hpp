// What TaskHandle<T> and Future<T> share: a counted reference to a FutureState, its
// awaiter, result access and done callbacks.
#pragma once
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <utility>

#include "future_state.hpp"
#include "task_state.hpp"

namespace aio::detail {

/// Reads a finished state's outcome: the value (copied, or moved when T cannot be copied)
/// or the exception rethrown with its own type.
template <class T, class Typed>
T read_result(FutureState& s) {
  s.check_result();
  if constexpr (!std::is_void_v<T>) {
    auto& v = static_cast<Typed&>(s).get();
    if constexpr (std::is_reference_v<T> || std::is_copy_constructible_v<T>) return v;
    else return std::move(v);
  }
}

/// `co_await handle`: waits for the state to finish; task.cancel() meanwhile cancels
/// what is awaited (asyncio's _fut_waiter.cancel()).
template <class T, class Typed>
class WaitAwaiter : Completion, CancelHook {
 public:
  explicit WaitAwaiter(FutureState* target) noexcept
      : Completion(&WaitAwaiter::on_done), CancelHook(&WaitAwaiter::on_cancel), target_(target) {
    target_->add_ref();
  }
  WaitAwaiter(const WaitAwaiter&) = delete;
  ~WaitAwaiter() {
    if (waiting_) target_->remove_waiter(this);  // the awaiting frame was destroyed while suspended
    target_->release();
  }
  bool await_ready() const noexcept { return target_->done(); }
  void await_suspend(std::coroutine_handle<> h) {
    task_ = &current_task_state();
    // asyncio's RuntimeError; here it would also make cancel() recurse through the hook
    if (target_ == static_cast<FutureState*>(task_)) throw std::runtime_error("Task cannot await on itself");
    target_->add_waiter(this);
    waiting_ = true;
    task_->suspend(h, this);
  }
  T await_resume() {
    if (task_) task_->throw_if_cancel_pending();
    return read_result<T, Typed>(*target_);
  }

 private:
  static void on_done(Completion* c, FutureState&) {
    auto* self = static_cast<WaitAwaiter*>(c);
    self->waiting_ = false;
    self->task_->wake();
  }
  static bool on_cancel(CancelHook* h, std::string_view message) {
    return static_cast<WaitAwaiter*>(h)->target_->cancel(message);
  }

  FutureState* target_;
  TaskState* task_ = nullptr;
  bool waiting_ = false;
};

/// A done callback: runs through the loop's ready queue after the state finishes, as
/// asyncio's call_soon does; an exception it throws goes to the loop's exception handler.
class DoneCallback : public Completion, public Runnable {
 public:
  using Fn = std::function<void(FutureState&)>;
  DoneCallback(Fn fn, std::uint64_t id) : Completion(&DoneCallback::on_done), Runnable(&DoneCallback::run_now),
        fn_(std::move(fn)), id_(id) {}
  std::uint64_t id() const noexcept { return id_; }
  static bool is_done_callback(const Completion* c) noexcept { return c->on_done == &DoneCallback::on_done; }
  static bool is_queued_callback(const Runnable* r) noexcept { return r->run == &DoneCallback::run_now; }
  /// Drops a callback still queued when its loop closes.
  static void discard(Runnable* r) noexcept;

  /// Registers fn on s (scheduling it at once when s is already done); returns its id.
  static std::uint64_t add(FutureState& s, Fn fn);
  /// Unregisters the callback with this id; the count removed (0 or 1).
  static std::size_t remove(FutureState& s, std::uint64_t id);

 private:
  static void on_done(Completion* c, FutureState& s);
  static void run_now(Runnable* r);

  Fn fn_;
  FutureState* state_ = nullptr;  // referenced from completion until the callback ran
  std::uint64_t id_;
};

/// Counted reference shared by TaskHandle and Future.
template <class State>
class StateRef {
 public:
  StateRef() noexcept = default;
  explicit StateRef(State* s) noexcept : s_(s) {
    if (s_) s_->add_ref();
  }
  StateRef(const StateRef& o) noexcept : StateRef(o.s_) {}
  StateRef(StateRef&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  StateRef& operator=(StateRef o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~StateRef() {
    if (s_) s_->release();
  }
  State* get() const noexcept { return s_; }
  State* operator->() const noexcept { return s_; }
  State& operator*() const noexcept { return *s_; }
  explicit operator bool() const noexcept { return s_ != nullptr; }
  friend bool operator==(const StateRef& a, const StateRef& b) noexcept { return a.s_ == b.s_; }

 private:
  State* s_ = nullptr;
};

}  // namespace aio::detail
