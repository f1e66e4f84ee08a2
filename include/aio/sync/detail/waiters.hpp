// What every synchronisation primitive shares: an intrusive FIFO of waiter nodes that
// live in the awaiters (waiting never allocates), and the Held<M> guard of hold().
#pragma once
#include <cstddef>
#include <coroutine>
#include <utility>

#include "../../core/detail/task_state.hpp"

namespace aio::detail {

/// A waiter's link in a WaitQueue.
struct WaitNode {
  WaitNode* prev = nullptr;
  WaitNode* next = nullptr;
};

/// Doubly linked FIFO: push at the back, wake from the front, unlink from anywhere
/// in O(1) (a cancelled waiter leaves at once, it is never skipped later).
class WaitQueue {
 public:
  WaitQueue() = default;
  WaitQueue(const WaitQueue&) = delete;
  WaitQueue& operator=(const WaitQueue&) = delete;

  bool empty() const noexcept { return head_ == nullptr; }
  /// Counted by walking the list: only reprs ask, so the hot paths keep no count.
  std::size_t size() const noexcept {
    std::size_t n = 0;
    for (WaitNode* p = head_; p; p = p->next) ++n;
    return n;
  }
  WaitNode* front() const noexcept { return head_; }

  void push_back(WaitNode* n) noexcept {
    n->next = nullptr;
    n->prev = tail_;
    if (tail_) tail_->next = n; else head_ = n;
    tail_ = n;
  }
  WaitNode* pop_front() noexcept {
    WaitNode* n = head_;
    if (n) remove(n);
    return n;
  }
  void remove(WaitNode* n) noexcept {
    if (n->prev) n->prev->next = n->next; else head_ = n->next;
    if (n->next) n->next->prev = n->prev; else tail_ = n->prev;
    n->prev = n->next = nullptr;
  }

 private:
  WaitNode* head_ = nullptr;
  WaitNode* tail_ = nullptr;
};

/// The running task, as current_task_state() gives it, with the common case inline.
inline TaskState& running_task() {
  if (TaskState* t = tls_current_task) [[likely]]
    return *t;
  return current_task_state();  // throws: awaited outside a task
}

/// Where a waiter is: not waiting (ready at once), in the queue, woken by the primitive
/// (its task is scheduled), or taken out of the queue by a cancellation.
enum class WaitState : unsigned char { idle, waiting, woken, cancelled };

/// Base of the primitives' awaiters: a queue node and a cancel hook. An awaiter may be
/// moved before it is awaited (wait_for() and timeout() take awaitables by value), never
/// while it waits.
struct Waiter : WaitNode, CancelHook {
  explicit Waiter(CancelHook::CancelFn fn) noexcept : CancelHook(fn) {}
  Waiter(Waiter&& o) noexcept : CancelHook(o.cancel) {}
  Waiter& operator=(const Waiter&) = delete;
  TaskState* task = nullptr;
  WaitState state = WaitState::idle;
};

/// co_await m.hold(): the inner acquire awaiter, then a guard that releases on scope exit.
template <class Guard, class Inner>
class HoldAwaiter {
 public:
  /// `owner` is what the guard releases; `args` build the acquire awaiter in place.
  template <class... Args>
  explicit HoldAwaiter(typename Guard::mutex_type& owner, Args&&... args)
      : inner_(std::forward<Args>(args)...), m_(&owner) {}
  bool await_ready() { return inner_.await_ready(); }
  template <class H>
  auto await_suspend(H h) {
    return inner_.await_suspend(h);
  }
  Guard await_resume() {
    inner_.await_resume();
    return Guard(*m_);
  }

 private:
  Inner inner_;
  typename Guard::mutex_type* m_;
};

}  // namespace aio::detail

namespace aio {

/// What `co_await lock.hold()` gives: the C++ form of `async with lock:`. Releases the
/// lock (semaphore, condition) when it goes out of scope; release() lets go earlier.
template <class M>
class [[nodiscard("the lock is released as soon as the guard goes")]] Held {
 public:
  using mutex_type = M;
  Held() noexcept = default;
  explicit Held(M& m) noexcept : m_(&m) {}
  Held(Held&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
  Held& operator=(Held&& o) {
    if (this != &o) {
      release();
      m_ = std::exchange(o.m_, nullptr);
    }
    return *this;
  }
  ~Held() {
    if (m_) m_->release();
  }
  /// Releases now (once); the guard is then empty.
  void release() {
    if (M* m = std::exchange(m_, nullptr)) m->release();
  }
  explicit operator bool() const noexcept { return m_ != nullptr; }

 private:
  M* m_ = nullptr;
};

}  // namespace aio
