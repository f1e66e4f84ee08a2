// The counting core of gather: one node per child, the gathering task woken once.
#pragma once
#include <memory>
#include <vector>

#include "task_state.hpp"

namespace aio::detail {

/// Lives on the heap until both the awaiter and every registered child are done with
/// it, so children finishing after an early error still have their exceptions marked
/// retrieved, as asyncio's gather does.
class GatherState : public CancelHook {
 public:
  GatherState(std::vector<FutureState*> children, bool return_exceptions);
  GatherState(const GatherState&) = delete;

  /// Registers on the pending children; false when nothing is left to wait for.
  bool start();
  void suspend(std::coroutine_handle<> h);
  /// After the wake-up: CancelledError if the gather was cancelled, else the first
  /// child error (without return_exceptions); the caller then reads the results.
  void finish_await();
  /// The awaiter is gone; frees the state once no child refers to it.
  void drop() noexcept;

 private:
  struct Node : Completion {
    Node() noexcept : Completion(&GatherState::on_child_done) {}
    GatherState* owner = nullptr;
    FutureState* child = nullptr;
    bool registered = false;
  };
  ~GatherState();
  static void on_child_done(Completion* c, FutureState& child);
  static bool on_cancel(CancelHook* h, std::string_view message);
  void wake() noexcept;
  void maybe_free() noexcept;

  std::unique_ptr<Node[]> nodes_;
  std::size_t count_;
  std::size_t registered_ = 0;
  std::size_t remaining_ = 0;
  FutureState* first_error_ = nullptr;
  TaskState* task_ = nullptr;
  bool return_exceptions_;
  bool cancel_requested_ = false;
  bool woken_ = false;
  bool awaiter_alive_ = true;
};

}  // namespace aio::detail
