// The shared state behind Future<T> and TaskHandle<T>: status, error, waiters and
// a reference count. Tasks keep it inside their coroutine frame (no extra allocation).
#pragma once
#include <cstdint>
#include <exception>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "loop_core.hpp"

namespace aio::detail {

class FutureState;

/// Someone waiting for a FutureState to finish (an awaiting task, a gather, a done
/// callback). The waiter owns the node; one node may wait on many states at once (a
/// gather registers a single node in every child), since on_done is told which state
/// finished. on_done on a state that is still pending means the state is being
/// destroyed with the node registered (only done callbacks can be): it frees itself.
struct Completion {
  using DoneFn = void (*)(Completion*, FutureState&);
  explicit Completion(DoneFn fn) noexcept : on_done(fn) {}
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

/// What most states never need, allocated on first use so that a task's frame stays
/// small: the exception, and a task's given name and cancel message.
struct ColdState {
  std::exception_ptr error;
  std::string name;
  std::string cancel_message;
};

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
    return peek_error();
  }
  const std::exception_ptr& peek_error() const noexcept { return cold_ ? cold_->error : kNoError; }

  /// Registers c; waiters are told in registration order (asyncio's callback order).
  void add_waiter(Completion* c) {
    if (!waiters_) {
      waiters_ = reinterpret_cast<std::uintptr_t>(c);
    } else if (!(waiters_ & kListTag)) {
      auto* list = new std::vector<Completion*>{single_waiter(), c};
      waiters_ = reinterpret_cast<std::uintptr_t>(list) | kListTag;
    } else {
      waiter_list()->push_back(c);
    }
  }
  /// Unregisters c (its first registration); true when it was registered.
  bool remove_waiter(Completion* c) noexcept {
    if (!(waiters_ & kListTag)) {
      if (single_waiter() != c) return false;
      waiters_ = 0;
      return true;
    }
    auto* list = waiter_list();
    for (auto it = list->begin(); it != list->end(); ++it) {
      if (*it == c) {
        list->erase(it);
        return true;
      }
    }
    return false;
  }
  /// Calls f(Completion*) for each registered waiter, in order; f must not register or unregister.
  template <class F>
  void for_each_waiter(F&& f) const {
    if (!(waiters_ & kListTag)) {
      if (waiters_) f(single_waiter());
    } else {
      for (Completion* c : *waiter_list()) f(c);
    }
  }

  /// asyncio's cancel(): a Future is cancelled at once, a Task is asked to stop.
  virtual bool cancel(std::string_view message) = 0;
  /// "<Task pending name='Task-1'>" / "<Future finished result=1>".
  virtual void write_repr(std::ostream& os) const = 0;

  /// Throws InvalidStateError while pending; rethrows the error (marking it retrieved).
  void check_result() {
    if (status_ != Status::finished || cold_) [[unlikely]]
      check_unusual_result();
  }

 protected:
  ~FutureState() = default;
  virtual void destroy() noexcept = 0;
  /// Prints " result=<value>".
  virtual void write_result(std::ostream& os) const = 0;
  /// "pending", "finished" or "cancelled", as in asyncio's reprs.
  const char* state_word() const noexcept;
  /// " result=..." or " exception=..." once finished.
  void write_details(std::ostream& os) const;

  /// Records the outcome and tells the waiters, in registration order.
  void finish(Status s) noexcept {
    status_ = s;
    log_error_ = s == Status::finished && peek_error() != nullptr;
    notify_waiters();
  }
  /// Hands every registered waiter to its on_done, unregistering them all first.
  void notify_waiters() noexcept {
    std::uintptr_t taken = std::exchange(waiters_, 0);
    if (!(taken & kListTag)) {
      if (taken) reinterpret_cast<Completion*>(taken)->on_done(reinterpret_cast<Completion*>(taken), *this);
      return;
    }
    auto* list = reinterpret_cast<std::vector<Completion*>*>(taken & ~kListTag);
    for (Completion* c : *list) c->on_done(c, *this);
    delete list;
  }

  ColdState& cold() {
    if (!cold_) cold_ = std::make_unique<ColdState>();
    return *cold_;
  }
  void set_error(std::exception_ptr e) { cold().error = std::move(e); }

  std::unique_ptr<ColdState> cold_;
  // Null, one Completion*, or (low bit set) a vector of them: nearly every state has at
  // most one waiter, and that costs no allocation.
  std::uintptr_t waiters_ = 0;
  LoopCore* loop_ = nullptr;  // where done callbacks run
  std::uint32_t refs_ = 0;
  Status status_ = Status::pending;
  bool is_task_ = false;
  bool log_error_ = false;  // "exception was never retrieved" when the last handle goes
  bool has_value_ = false;  // the ValueSlot holds a value to destroy

 private:
  static constexpr std::uintptr_t kListTag = 1;
  static inline const std::exception_ptr kNoError{};
  void check_unusual_result();
  Completion* single_waiter() const noexcept { return reinterpret_cast<Completion*>(waiters_); }
  std::vector<Completion*>* waiter_list() const noexcept {
    return reinterpret_cast<std::vector<Completion*>*>(waiters_ & ~kListTag);
  }
  void last_release() noexcept;
};

/// Where a value lives until it is retrieved: raw storage whose "is set" bit is the
/// owner's has_value_ (an optional would spend 8 more bytes in every frame). Empty for
/// void, a pointer for references.
template <class T>
class ValueSlot {
 public:
  ValueSlot() noexcept {}
  ~ValueSlot() {}  // the owner destroys the value: it knows whether one was set
  template <class U>
  void construct_value(U&& v) {
    std::construct_at(&value_, std::forward<U>(v));
  }
  void destroy_value() noexcept { std::destroy_at(&value_); }
  T& get() noexcept { return value_; }
  const T& get() const noexcept { return value_; }

 private:
  union {
    T value_;
  };
};
template <class T>
class ValueSlot<T&> {
 public:
  void construct_value(T& v) noexcept { value_ = &v; }
  void destroy_value() noexcept {}
  T& get() const noexcept { return *value_; }

 private:
  T* value_ = nullptr;
};
template <>
class ValueSlot<void> {
 public:
  void destroy_value() noexcept {}
};

}  // namespace aio::detail
