// aio::TaskGroup: asyncio.TaskGroup — structured concurrency: children cannot outlive
// the group, the first failure cancels the rest, errors come back as one ExceptionGroup.
#pragma once
#include <vector>

#include "event_loop.hpp"

namespace aio {

class TaskGroup {
 public:
  /// Enters the group in the running task (the task that join() or with() later runs in).
  TaskGroup();
  /// Without join(), the children still running are cancelled: nothing outlives the group.
  ~TaskGroup();
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  /// Schedules a child; std::runtime_error once the group is finished or shutting down.
  template <class T>
  TaskHandle<T> create_task(Task<T> task, std::string name = {}) {
    check_accepting();
    auto handle = get_running_loop().create_task(std::move(task), std::move(name));
    adopt(handle.state());
    return handle;
  }

  /// Waits for every child (asyncio's __aexit__ without an exception). On the first
  /// failure the rest are cancelled; then ExceptionGroup("unhandled errors in a TaskGroup"),
  /// except that a KeyboardInterrupt (of a child or the body) is raised as itself, the
  /// other errors then going to the loop's exception handler.
  Task<> join() { return exit(nullptr); }

  Task<TaskGroup&> aenter() { co_return *this; }
  /// __aexit__: the body's exception cancels the children and joins the ExceptionGroup.
  Task<> aexit(std::exception_ptr error) { return exit(std::move(error)); }

 private:
  /// One per child, in creation order. As asyncio's _on_task_done is a done callback, the
  /// child's completion is handled one loop step later (through the ready queue), so tasks
  /// failing in the same iteration all report their errors before the group aborts.
  struct Child : detail::Completion, detail::Runnable {
    explicit Child(TaskGroup* g, detail::TaskState* s);
    TaskGroup* group;  // null once the group is gone while this node is still queued
    TaskHandle<> task;
    Child* prev = nullptr;
    Child* next = nullptr;
    bool queued = false;
  };
  static void on_child_done(detail::Completion* c, detail::FutureState& s);
  static void run_child_done(detail::Runnable* r);
  void child_done(Child* c);
  void adopt(detail::TaskState* task);
  void check_accepting() const;
  void abort();
  Task<> exit(std::exception_ptr error);
  void report_suppressed(const std::exception_ptr& body_error) const;

  TaskHandle<> parent_;
  Child* children_ = nullptr;
  Child* last_child_ = nullptr;
  std::vector<std::exception_ptr> errors_;
  std::exception_ptr base_error_;  // the first KeyboardInterrupt: raised as itself, not grouped
  Future<> all_done_;
  bool exiting_ = false;
  bool aborting_ = false;
  bool parent_cancel_requested_ = false;
};

}  // namespace aio
