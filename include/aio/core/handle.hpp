// aio::Handle and aio::TimerHandle: what call_soon / call_later return.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <utility>

#include "detail/loop_core.hpp"

namespace aio {

class EventLoop;

namespace detail {

/// A callback waiting in the ready queue or on the timer heap. Counted: one reference
/// for the loop while it is queued, one per Handle; atomically, since a Handle from
/// call_soon_threadsafe lives in another thread.
class CallbackNode final : public Runnable, public TimerEntry {
 public:
  CallbackNode(EventLoop& loop, std::function<void()> fn)
      : Runnable(&CallbackNode::run_now), TimerEntry(&CallbackNode::fire_timer), loop_(&loop), fn_(std::move(fn)) {}

  void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  void cancel() noexcept;
  bool cancelled() const noexcept { return cancelled_.load(std::memory_order_relaxed); }
  static bool is_callback(const Runnable* r) noexcept { return r->run == &CallbackNode::run_now; }
  static bool is_timer(const TimerEntry* e) noexcept { return e->fire == &CallbackNode::fire_timer; }
  double when() const noexcept { return static_cast<double>(deadline_ns) / 1e9; }

 private:
  static void run_now(Runnable* r);
  static void fire_timer(TimerEntry* e);

  EventLoop* loop_;
  std::function<void()> fn_;
  std::atomic<std::uint32_t> refs_{1};  // the loop's
  std::atomic<bool> cancelled_{false};
};

}  // namespace detail

/// A scheduled callback (asyncio.Handle): cancel() keeps it from running.
class Handle {
 public:
  Handle() noexcept = default;
  explicit Handle(detail::CallbackNode* node) noexcept : node_(node) {
    if (node_) node_->add_ref();
  }
  Handle(const Handle& o) noexcept : Handle(o.node_) {}
  Handle(Handle&& o) noexcept : node_(std::exchange(o.node_, nullptr)) {}
  Handle& operator=(Handle o) noexcept {
    std::swap(node_, o.node_);
    return *this;
  }
  ~Handle() {
    if (node_) node_->release();
  }
  explicit operator bool() const noexcept { return node_ != nullptr; }
  friend bool operator==(const Handle& a, const Handle& b) noexcept { return a.node_ == b.node_; }

  void cancel() const noexcept { node_->cancel(); }
  bool cancelled() const noexcept { return node_->cancelled(); }

 protected:
  detail::CallbackNode* node_ = nullptr;
};

/// A callback scheduled for a time (asyncio.TimerHandle).
class TimerHandle : public Handle {
 public:
  using Handle::Handle;
  /// The loop.time() at which it runs.
  double when() const noexcept { return node_->when(); }
};

}  // namespace aio
