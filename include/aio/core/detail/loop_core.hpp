// The part of the event loop that tasks, futures and awaiters touch on their hot
// paths: ready queue, timers, clock, current task. Kept apart from EventLoop so
// those headers stay small and everything here inlines.
#pragma once
#include <cstdint>

#include "../time.hpp"
#include "ready_queue.hpp"
#include "timer_heap.hpp"

namespace aio::detail {

class TaskState;

struct LoopCore {
  ReadyQueue ready;
  TimerHeap timers;
  TaskState* current_task = nullptr;
  TaskState* tasks_head = nullptr;  // every unfinished task, for all_tasks() and close()
  bool virtual_time = false;        // aio::testing: time jumps to the next timer instead of waiting
  std::int64_t virtual_now_ns = 0;
  std::uint32_t task_counter = 0;   // names "Task-N": numbered per loop, so each run() starts at Task-1

  std::int64_t now_ns() const noexcept { return virtual_time ? virtual_now_ns : monotonic_ns(); }
  void schedule(Runnable* r) noexcept { ready.push(r); }
  void arm_timer(TimerEntry* e, std::int64_t deadline_ns) { timers.arm(e, deadline_ns); }
  void disarm_timer(TimerEntry* e) noexcept {
    if (e->armed()) timers.disarm(e);
  }
};

/// The loop this thread runs or was given (set_event_loop / get_event_loop); null when none.
inline thread_local LoopCore* tls_loop = nullptr;
/// The task whose step is running on this thread; null between steps and in callbacks.
inline thread_local TaskState* tls_current_task = nullptr;

/// The thread's loop, created on first use as asyncio's get_event_loop() does.
LoopCore& thread_loop();

}  // namespace aio::detail
