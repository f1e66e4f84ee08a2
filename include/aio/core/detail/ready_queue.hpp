// The loop's ready queue: an intrusive FIFO of task steps and callbacks, so scheduling
// never allocates.
#pragma once
#include <cstdint>

namespace aio::detail {

/// The link every queued object carries in itself: the next entry, tagged (low bit) when
/// that entry is a task. Tasks need no dispatch pointer of their own: the tag sends them
/// straight to their step, which saves 8 bytes in every task frame and an indirect call.
struct ReadyLink {
  std::uintptr_t next_ready = 0;
};

/// A callback the loop can run (call_soon, done callbacks, woken queue waiters).
struct Runnable : ReadyLink {
  using RunFn = void (*)(Runnable*);
  explicit Runnable(RunFn fn) noexcept : run(fn) {}
  RunFn run;
};

class ReadyQueue {
 public:
  /// One queued entry: a task (is_task(), its ReadyLink) or a Runnable.
  class Entry {
   public:
    explicit Entry(std::uintptr_t bits) noexcept : bits_(bits) {}
    explicit operator bool() const noexcept { return bits_ != 0; }
    bool is_task() const noexcept { return bits_ & kTaskTag; }
    ReadyLink* link() const noexcept { return reinterpret_cast<ReadyLink*>(bits_ & ~kTaskTag); }
    Runnable* runnable() const noexcept { return static_cast<Runnable*>(link()); }

   private:
    std::uintptr_t bits_;
  };

  bool empty() const noexcept { return head_ == 0; }
  void push(Runnable* r) noexcept { push(reinterpret_cast<std::uintptr_t>(static_cast<ReadyLink*>(r)), r); }
  /// Queues a task's step; `task` is the task's ReadyLink.
  void push_task(ReadyLink* task) noexcept { push(reinterpret_cast<std::uintptr_t>(task) | kTaskTag, task); }
  Entry pop() noexcept {
    Entry e(head_);
    if (head_) {
      head_ = e.link()->next_ready;
      if (!head_) tail_ = nullptr;
    }
    return e;
  }
  /// The last item now queued: one loop iteration runs up to it and no further,
  /// so what a step schedules waits for the next iteration (asyncio's _run_once).
  const ReadyLink* back() const noexcept { return tail_; }

 private:
  static constexpr std::uintptr_t kTaskTag = 1;
  void push(std::uintptr_t entry, ReadyLink* node) noexcept {
    node->next_ready = 0;
    if (tail_) tail_->next_ready = entry; else head_ = entry;
    tail_ = node;
  }

  std::uintptr_t head_ = 0;
  ReadyLink* tail_ = nullptr;
};

}  // namespace aio::detail
