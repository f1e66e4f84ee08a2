// The shared state behind Future<T> and TaskHandle<T>: status, error, waiters and
// a reference count. Tasks keep it inside their coroutine frame (no extra allocation).
#pragma once
#include <cstdint>
#include <exception>
#include <iosfwd>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "loop_core.hpp"

namespace aio::detail {

class FutureState;

/// Someone waiting for a FutureState to finish (an awaiting task, a gather, a done
/// callback). Intrusive: the waiter owns the node, registering never allocates.
/// on_done on a state that is still pending means the state is being destroyed
/// with the node registered (only done callbacks can be): the node frees itself.
struct Completion {
  using DoneFn = void (*)(Completion*, FutureState&);
  explicit Completion(DoneFn fn) noexcept : on_done(fn) {}
  Completion* next_waiter = nullptr;
  DoneFn on_done;
};

/// Set by an awaiter while its task is suspended in it, so that task.cancel() can reach
/// what the task waits for (asyncio's _fut_waiter). Returns true when the awaited thing
/// took the cancellation over (it will wake the task itself); false makes the task's
/// next resume throw CancelledError.
struct CancelHook {
  using CancelFn = bool (*)(CancelHook*, std::string_view message);
  explicit CancelHook(CancelFn fn) noexcept : cancel(fn) {}
  CancelFn cancel;
};

enum class Status : std::uint8_t { pending, finished, cancelled };

class FutureState {
 public:
  FutureState() = default;
  FutureState(const FutureState&) = delete;
  FutureState& operator=(const FutureState&) = delete;

  void add_ref() noexcept { ++refs_; }
  void release() noexcept {
    if (--refs_ == 0) last_release();
  }

  Status status() const noexcept { return status_; }
  bool done() const noexcept { return status_ != Status::pending; }
  bool cancelled() const noexcept { return status_ == Status::cancelled; }
  bool is_task() const noexcept { return is_task_; }
  LoopCore& loop() const noexcept { return *loop_; }

  /// The stored exception (CancelledError included); marks it retrieved.
  const std::exception_ptr& take_error() noexcept {
    log_error_ = false;
    return error_;
  }
  const std::exception_ptr& peek_error() const noexcept { return error_; }

  void add_waiter(Completion* c) noexcept {
    c->next_waiter = waiters_;
    waiters_ = c;
  }
  /// Unlinks c if it is still registered; true when it was.
  bool remove_waiter(Completion* c) noexcept {
    for (Completion** p = &waiters_; *p; p = &(*p)->next_waiter) {
      if (*p == c) {
        *p = c->next_waiter;
        return true;
      }
    }
    return false;
  }
  Completion* waiters() const noexcept { return waiters_; }

  /// asyncio's cancel(): a Future is cancelled at once, a Task is asked to stop.
  virtual bool cancel(std::string_view message) = 0;
  /// "<Task pending name='Task-1'>" / "<Future finished result=1>".
  virtual void write_repr(std::ostream& os) const = 0;

  /// Throws InvalidStateError while pending; rethrows the error (marking it retrieved).
  void check_result();

 protected:
  ~FutureState() = default;
  virtual void destroy() noexcept = 0;
  /// Prints " result=<value>".
  virtual void write_result(std::ostream& os) const = 0;
  /// "pending", "finished" or "cancelled", as in asyncio's reprs.
  const char* state_word() const noexcept;
  /// " result=..." or " exception=..." once finished.
  void write_details(std::ostream& os) const;

  /// Records the outcome and wakes the waiters in registration order (asyncio's callback order).
  void finish(Status s) noexcept {
    status_ = s;
    log_error_ = s == Status::finished && error_ != nullptr;
    Completion* reversed = nullptr;
    while (Completion* c = waiters_) {
      waiters_ = c->next_waiter;
      c->next_waiter = reversed;
      reversed = c;
    }
    while (Completion* c = reversed) {
      reversed = c->next_waiter;
      c->next_waiter = nullptr;
      c->on_done(c, *this);
    }
  }

  std::exception_ptr error_;
  Completion* waiters_ = nullptr;
  LoopCore* loop_ = nullptr;  // where done callbacks run
  std::uint32_t refs_ = 0;
  Status status_ = Status::pending;
  bool is_task_ = false;
  bool log_error_ = false;  // "exception was never retrieved" when the last handle goes

 private:
  void last_release() noexcept;
};

/// Where a value lives until it is retrieved; empty for void, a pointer for references.
template <class T>
struct ValueSlot {
  std::optional<T> value;
  template <class U>
  void set_value(U&& v) { value.emplace(std::forward<U>(v)); }
  T& get() noexcept { return *value; }
  const T& get() const noexcept { return *value; }
};
template <class T>
struct ValueSlot<T&> {
  T* value = nullptr;
  void set_value(T& v) noexcept { value = &v; }
  T& get() const noexcept { return *value; }
};
template <>
struct ValueSlot<void> {};

}  // namespace aio::detail
