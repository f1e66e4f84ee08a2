// The loop's ready queue: an intrusive FIFO of Runnables (tasks and callbacks),
// so scheduling never allocates.
#pragma once

namespace aio::detail {

/// Something the loop can run: a task step or a callback. The link lives in the object.
struct Runnable {
  using RunFn = void (*)(Runnable*);
  explicit Runnable(RunFn fn) noexcept : run(fn) {}
  Runnable* next_ready = nullptr;
  RunFn run;
};

class ReadyQueue {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  void push(Runnable* r) noexcept {
    r->next_ready = nullptr;
    if (tail_) tail_->next_ready = r; else head_ = r;
    tail_ = r;
  }
  Runnable* pop() noexcept {
    Runnable* r = head_;
    if (r) {
      head_ = r->next_ready;
      if (!head_) tail_ = nullptr;
    }
    return r;
  }
  /// The last item now queued: one loop iteration runs up to it and no further,
  /// so what a step schedules waits for the next iteration (asyncio's _run_once).
  Runnable* back() const noexcept { return tail_; }

 private:
  Runnable* head_ = nullptr;
  Runnable* tail_ = nullptr;
};

}  // namespace aio::detail
