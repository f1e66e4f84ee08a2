// aio::Barrier: asyncio.Barrier — `parties` tasks meet, then all go on together.
#pragma once
#include <ostream>
#include <stdexcept>

#include "condition.hpp"
#include "errors.hpp"

namespace aio {

class Barrier {
 public:
  /// std::invalid_argument when parties < 1.
  explicit Barrier(int parties) : parties_(parties) {
    if (parties < 1) throw std::invalid_argument("parties must be >= 1");
  }
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  /// Waits until `parties` tasks wait, then all return; each gets a distinct index in
  /// [0, parties). BrokenBarrierError when the barrier is reset or aborted meanwhile.
  Task<int> wait();
  /// Back to the initial state; tasks waiting now get BrokenBarrierError.
  Task<> reset();
  /// Breaks the barrier: waiting and future wait()s throw BrokenBarrierError.
  Task<> abort();

  int parties() const noexcept { return parties_; }
  /// Tasks waiting for the barrier to fill (0 while it drains or resets).
  int n_waiting() const noexcept { return state_ == State::filling ? count_ : 0; }
  bool broken() const noexcept { return state_ == State::broken; }

  /// "<Barrier [filling, waiters:2/5]>", asyncio's repr without the address.
  friend std::ostream& operator<<(std::ostream& os, const Barrier& b) {
    static constexpr const char* names[] = {"filling", "draining", "resetting", "broken"};
    os << "<Barrier [" << names[static_cast<int>(b.state_)];
    if (!b.broken()) os << ", waiters:" << b.n_waiting() << '/' << b.parties_;
    return os << "]>";
  }

 private:
  enum class State { filling, draining, resetting, broken };
  void exit_barrier() {
    if (count_ == 0) {
      if (state_ == State::resetting || state_ == State::draining) state_ = State::filling;
      cond_.notify_all();
    }
  }

  Condition cond_;
  int parties_;
  int count_ = 0;
  State state_ = State::filling;
};

inline Task<int> Barrier::wait() {
  auto held = co_await cond_.hold();
  // Wait while the barrier drains or resets.
  co_await cond_.wait_for([this] { return state_ != State::draining && state_ != State::resetting; });
  if (state_ == State::broken) throw BrokenBarrierError("Barrier aborted");
  const int index = count_++;
  try {
    if (index + 1 == parties_) {
      state_ = State::draining;  // the last one in releases everyone
      cond_.notify_all();
    } else {
      co_await cond_.wait_for([this] { return state_ != State::filling; });
      if (state_ == State::broken || state_ == State::resetting)
        throw BrokenBarrierError("Abort or reset of barrier");
    }
  } catch (...) {
    --count_;
    exit_barrier();
    throw;
  }
  --count_;
  exit_barrier();
  co_return index;
}

inline Task<> Barrier::reset() {
  auto held = co_await cond_.hold();
  if (count_ > 0) state_ = State::resetting;
  else state_ = State::filling;
  cond_.notify_all();
}

inline Task<> Barrier::abort() {
  auto held = co_await cond_.hold();
  state_ = State::broken;
  cond_.notify_all();
}

}  // namespace aio
