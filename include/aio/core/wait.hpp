// aio::wait: asyncio.wait — wait for some of a set of tasks/futures, split into done and pending.
#pragma once
#include <optional>
#include <stdexcept>
#include <vector>

#include "detail/distinct_handles.hpp"
#include "event_loop.hpp"
#include "timeout.hpp"

namespace aio {

enum ReturnWhen { FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED };

struct WaitOptions {
  std::optional<double> timeout = std::nullopt;  ///< seconds; nullopt waits as long as it takes
  ReturnWhen return_when = ALL_COMPLETED;
};

/// `auto [done, pending] = co_await aio::wait(tasks)`; both keep the input order, and a task
/// or future given twice is in them once (asyncio's wait() takes a set).
template <class T, class H = TaskHandle<T>>
struct WaitResult {
  std::vector<H> done;
  std::vector<H> pending;
};

namespace detail {

template <class H>
class WaitCounter {
 public:
  WaitCounter(const std::vector<H>& fs, ReturnWhen when) : nodes_(fs.size()), when_(when) {
    for (std::size_t i = 0; i < fs.size(); ++i) {
      nodes_[i].owner = this;
      nodes_[i].state = fs[i].state();
    }
  }
  ~WaitCounter() {
    for (auto& n : nodes_)
      if (n.registered) n.state->remove_waiter(&n);
  }
  /// Registers on the pending ones; true when the condition already holds.
  bool start() {
    remaining_ = nodes_.size();
    for (auto& n : nodes_) {
      if (n.state->done()) {
        if (count(*n.state)) return true;
      } else {
        n.state->add_waiter(&n);
        n.registered = true;
      }
    }
    return false;
  }
  Future<> satisfied = Future<>::create();

 private:
  struct Node : Completion {
    Node() noexcept : Completion(&Node::on_done) {}
    WaitCounter* owner = nullptr;
    FutureState* state = nullptr;
    bool registered = false;
    static void on_done(Completion* c, FutureState& s) {
      auto* n = static_cast<Node*>(c);
      n->registered = false;
      if (s.done() && n->owner->count(s) && !n->owner->satisfied.done()) n->owner->satisfied.set_result();
    }
  };
  bool count(FutureState& s) {
    --remaining_;
    return remaining_ == 0 || when_ == FIRST_COMPLETED ||
           (when_ == FIRST_EXCEPTION && !s.cancelled() && s.peek_error());
  }
  std::vector<Node> nodes_;
  std::size_t remaining_ = 0;
  ReturnWhen when_;
};

template <class T, class H>
Task<WaitResult<T, H>> wait_handles(std::vector<H> fs, WaitOptions options) {
  if (fs.empty()) throw std::invalid_argument("Set of Tasks/Futures is empty.");
  {
    WaitCounter<H> counter(fs, options.return_when);
    if (!counter.start()) {
      if (options.timeout) {
        try {
          co_await wait_for(counter.satisfied, *options.timeout);
        } catch (const TimeoutError&) {
          // asyncio.wait() does not raise on timeout: it reports what is done by then
        }
      } else {
        co_await counter.satisfied;
      }
    }
  }
  WaitResult<T, H> result;
  for (auto& f : fs) (f.done() ? result.done : result.pending).push_back(std::move(f));
  co_return result;
}

}  // namespace detail

/// Waits for TaskHandles or Futures (not lazy Tasks: asyncio 3.11+ refuses bare
/// coroutines) until return_when holds or the timeout passes; never raises TimeoutError.
template <std::ranges::range R>
  requires(detail::is_task_handle_v<std::ranges::range_value_t<std::remove_cvref_t<R>>> ||
           detail::is_future_v<std::ranges::range_value_t<std::remove_cvref_t<R>>>)
[[nodiscard]] auto wait(R&& range, WaitOptions options = {}) {
  using H = std::ranges::range_value_t<std::remove_cvref_t<R>>;
  std::vector<H> fs(std::ranges::begin(range), std::ranges::end(range));
  detail::keep_distinct(fs);
  return detail::wait_handles<typename H::value_type, H>(std::move(fs), options);
}

}  // namespace aio
