// aio::Queue, aio::LifoQueue, aio::PriorityQueue: asyncio's queues. Waiting never
// allocates (the waiter is a node inside the awaiter) and blocked putters and getters
// are woken in FIFO order.
#pragma once
#include <cstddef>
#include <functional>
#include <ostream>
#include <stdexcept>
#include <utility>

#include "../core/detail/repr.hpp"
#include "detail/queue_storage.hpp"
#include "detail/waiters.hpp"
#include "errors.hpp"
#include "event.hpp"

namespace aio {
namespace detail {

/// What Queue, LifoQueue and PriorityQueue share; Storage gives the order.
template <class T, class Storage>
class BasicQueue {
 public:
  /// maxsize <= 0: unbounded.
  BasicQueue() : BasicQueue(0) {}
  template <class... A>
  explicit BasicQueue(long maxsize, A&&... storage_args)
      : items_(std::forward<A>(storage_args)...), maxsize_(maxsize) {
    finished_.set();
  }
  BasicQueue(const BasicQueue&) = delete;
  BasicQueue& operator=(const BasicQueue&) = delete;

  class PutAwaiter;
  class GetAwaiter;
  class JoinAwaiter;

  /// co_await: puts `item`, first waiting (FIFO) while the queue is full.
  /// QueueShutDown once shut down. Cancelled while waiting: nothing is added.
  [[nodiscard]] PutAwaiter put(T item) { return PutAwaiter(*this, std::move(item)); }
  /// co_await: the next item, first waiting (FIFO) while the queue is empty.
  /// QueueShutDown once shut down and empty. Cancelled while waiting: no item is lost.
  [[nodiscard]] GetAwaiter get() noexcept { return GetAwaiter(*this); }
  /// QueueFull when full, QueueShutDown once shut down.
  void put_nowait(T item) {
    if (shutdown_) throw QueueShutDown();
    if (full()) throw QueueFull();
    items_.push(std::move(item));
    ++unfinished_;
    finished_.clear();
    wakeup_next(getters_);
  }
  /// QueueEmpty when empty (QueueShutDown when empty and shut down).
  T get_nowait() {
    if (items_.empty()) {
      if (shutdown_) throw QueueShutDown();
      throw QueueEmpty();
    }
    T item = items_.pop();
    wakeup_next(putters_);
    return item;
  }

  std::size_t qsize() const noexcept { return items_.size(); }
  bool empty() const noexcept { return items_.empty(); }
  bool full() const noexcept { return maxsize_ > 0 && items_.size() >= static_cast<std::size_t>(maxsize_); }
  long maxsize() const noexcept { return maxsize_; }

  /// One item taken by get() is fully processed; std::invalid_argument when called
  /// more often than items were put.
  void task_done() {
    if (unfinished_ == 0) throw std::invalid_argument("task_done() called too many times");
    if (--unfinished_ == 0) finished_.set();
  }
  /// co_await: until every item put has been marked task_done().
  [[nodiscard]] JoinAwaiter join() noexcept { return JoinAwaiter(finished_); }

  /// put() and put_nowait() throw QueueShutDown from now on; get() does once the queue
  /// is empty — at once with `immediate`, which also drops the items (counting them
  /// done for join()). Every blocked put() and get() wakes up to find out.
  void shutdown(bool immediate = false) {
    shutdown_ = true;
    if (immediate) {
      while (!items_.empty()) {
        items_.pop();
        if (unfinished_ > 0) --unfinished_;
      }
      if (unfinished_ == 0) finished_.set();
    }
    while (!getters_.empty()) wakeup_next(getters_);
    while (!putters_.empty()) wakeup_next(putters_);
  }

  /// "<Queue maxsize=1 _queue=[1] _getters[1] _putters[1] tasks=1 shutdown>": asyncio's str().
  friend std::ostream& operator<<(std::ostream& os, const BasicQueue& q) {
    os << '<' << Storage::name << " maxsize=" << q.maxsize_;
    if (!q.items_.empty()) {
      os << " _queue=[";
      const char* sep = "";
      q.items_.for_each([&](const T& v) {
        os << sep;
        write_value(os, v);
        sep = ", ";
      });
      os << ']';
    }
    if (!q.getters_.empty()) os << " _getters[" << q.getters_.size() << ']';
    if (!q.putters_.empty()) os << " _putters[" << q.putters_.size() << ']';
    if (q.unfinished_) os << " tasks=" << q.unfinished_;
    if (q.shutdown_) os << " shutdown";
    return os << '>';
  }

 private:
  /// A blocked put() or get(). Woken, it is scheduled through its own Runnable rather
  /// than its task's: when its turn comes it re-checks the queue as asyncio's while-loop
  /// does, and goes back to the end of the line if someone else took the item or slot
  /// meanwhile, all without a coroutine frame.
  struct QueueWaiter : Waiter, Runnable {
    QueueWaiter(BasicQueue& queue, bool getter, Runnable::RunFn r) noexcept
        : Waiter(&QueueWaiter::on_cancel), Runnable(r), q(&queue), is_getter(getter) {}
    QueueWaiter(QueueWaiter&& o) noexcept : Waiter(std::move(o)), Runnable(o.run), q(o.q), is_getter(o.is_getter) {}
    BasicQueue* q;
    LoopCore* loop = nullptr;  // the task's, kept at hand for the wake-up
    bool is_getter;
    bool cancel_requested = false;

    void start_waiting(WaitQueue& list, std::coroutine_handle<> h) {
      task = &running_task();
      loop = &task->loop();
      list.push_back(this);
      state = WaitState::waiting;
      task->suspend(h, this);
    }
    /// Resumes the task (this waiter may be gone afterwards).
    void resume_task() { task->step(); }
    /// Back in the task: delivers a pending cancellation.
    void begin_resume(WaitQueue& list, bool more_for_next) {
      const bool woken = state == WaitState::woken;
      state = WaitState::idle;
      try {
        task->throw_if_cancel_pending();
      } catch (...) {
        // Woken but cancelled before running: hand the wake-up to the next in line.
        if (woken && more_for_next) q->wakeup_next(list);
        throw;
      }
    }
    static bool on_cancel(CancelHook* h, std::string_view) {
      auto* self = static_cast<QueueWaiter*>(static_cast<Waiter*>(h));
      if (self->state == WaitState::waiting) {
        self->q->list_of(self).remove(self);
        self->state = WaitState::cancelled;
        self->task->wake();
      } else if (self->state == WaitState::woken) {
        self->cancel_requested = true;  // its Runnable resumes the task, which then throws
      }
      return false;
    }
  };

  WaitQueue& list_of(QueueWaiter* w) noexcept { return w->is_getter ? getters_ : putters_; }

  void wakeup_next(WaitQueue& list) noexcept {
    if (WaitNode* n = list.pop_front()) {
      auto* w = static_cast<QueueWaiter*>(static_cast<Waiter*>(n));
      w->state = WaitState::woken;
      w->loop->schedule(w);
    }
  }

  Storage items_;
  WaitQueue getters_;
  WaitQueue putters_;
  Event finished_;
  long maxsize_;
  std::size_t unfinished_ = 0;
  bool shutdown_ = false;
};

template <class T, class Storage>
class BasicQueue<T, Storage>::GetAwaiter : QueueWaiter {
 public:
  explicit GetAwaiter(BasicQueue& q) noexcept : QueueWaiter(q, true, &GetAwaiter::on_turn) {}
  GetAwaiter(GetAwaiter&&) noexcept = default;
  // Woken (its Runnable queued) the frame cannot go: only loop close destroys suspended
  // frames, and it drops the ready queue first.
  ~GetAwaiter() {
    if (this->state == WaitState::waiting) this->q->getters_.remove(this);
  }
  bool await_ready() const noexcept { return !this->q->items_.empty() || this->q->shutdown_; }
  void await_suspend(std::coroutine_handle<> h) { this->start_waiting(this->q->getters_, h); }
  T await_resume() {
    if (this->state != WaitState::idle) this->begin_resume(this->q->getters_, !this->q->items_.empty());
    return this->q->get_nowait();
  }

 private:
  friend class BasicQueue;
  static void on_turn(Runnable* r) {
    auto* self = static_cast<GetAwaiter*>(static_cast<QueueWaiter*>(r));
    BasicQueue* q = self->q;
    if (!self->cancel_requested && q->items_.empty() && !q->shutdown_) {
      self->state = WaitState::waiting;  // someone took the item: wait again, at the back
      q->getters_.push_back(self);
      return;
    }
    self->resume_task();
  }
};

template <class T, class Storage>
class BasicQueue<T, Storage>::PutAwaiter : QueueWaiter {
 public:
  PutAwaiter(BasicQueue& q, T item) : QueueWaiter(q, false, &PutAwaiter::on_turn), item_(std::move(item)) {}
  PutAwaiter(PutAwaiter&&) = default;
  ~PutAwaiter() {
    if (this->state == WaitState::waiting) this->q->putters_.remove(this);
  }
  bool await_ready() const noexcept { return !this->q->full() || this->q->shutdown_; }
  void await_suspend(std::coroutine_handle<> h) { this->start_waiting(this->q->putters_, h); }
  void await_resume() {
    if (this->state != WaitState::idle) this->begin_resume(this->q->putters_, !this->q->full());
    this->q->put_nowait(std::move(item_));
  }

 private:
  friend class BasicQueue;
  static void on_turn(Runnable* r) {
    auto* self = static_cast<PutAwaiter*>(static_cast<QueueWaiter*>(r));
    BasicQueue* q = self->q;
    if (!self->cancel_requested && q->full() && !q->shutdown_) {
      self->state = WaitState::waiting;  // someone took the slot: wait again, at the back
      q->putters_.push_back(self);
      return;
    }
    self->resume_task();
  }
  T item_;
};

template <class T, class Storage>
class BasicQueue<T, Storage>::JoinAwaiter {
 public:
  explicit JoinAwaiter(Event& finished) noexcept : inner_(finished) {}
  bool await_ready() const noexcept { return inner_.await_ready(); }
  void await_suspend(std::coroutine_handle<> h) { inner_.await_suspend(h); }
  void await_resume() { inner_.await_resume(); }

 private:
  Event::WaitAwaiter inner_;
};

}  // namespace detail

/// asyncio.Queue: first in, first out. `aio::Queue<int> q(maxsize)`; maxsize <= 0 is unbounded.
template <class T>
class Queue : public detail::BasicQueue<T, detail::FifoStorage<T>> {
 public:
  Queue() = default;
  explicit Queue(long maxsize) : detail::BasicQueue<T, detail::FifoStorage<T>>(maxsize) {}
};

/// asyncio.LifoQueue: last in, first out.
template <class T>
class LifoQueue : public detail::BasicQueue<T, detail::LifoStorage<T>> {
 public:
  LifoQueue() = default;
  explicit LifoQueue(long maxsize) : detail::BasicQueue<T, detail::LifoStorage<T>>(maxsize) {}
};

/// asyncio.PriorityQueue: the smallest item by Compare first (e.g. std::pair<int, Job>).
template <class T, class Compare = std::less<T>>
class PriorityQueue : public detail::BasicQueue<T, detail::PriorityStorage<T, Compare>> {
 public:
  PriorityQueue() = default;
  explicit PriorityQueue(long maxsize, Compare compare = Compare())
      : detail::BasicQueue<T, detail::PriorityStorage<T, Compare>>(maxsize, std::move(compare)) {}
};

}  // namespace aio
