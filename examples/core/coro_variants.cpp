// Seed 002 §1: the ways to run coroutines a() and b() together — gather, wait,
// create_task, ensure_future, cancel, shield — each as its own aio::run().
#include <aio/aio.hpp>

#include <iostream>
#include <string>
#include <vector>

aio::Task<std::string> a() {
  std::cout << "Coro a is running" << std::endl;
  co_await aio::sleep(0.2);
  std::cout << "Coro a is done" << std::endl;
  co_return "A";
}

aio::Task<std::string> b() {
  std::cout << "Coro b is running" << std::endl;
  co_await aio::sleep(0.1);
  std::cout << "Coro b is done" << std::endl;
  co_return "B";
}

// Runs concurrently and collects the results; errors would come back as values.
aio::Task<> main_gather() {
  auto [value_a, value_b] = co_await aio::gather(aio::return_exceptions, a(), b());
  std::cout << value_a.value() << ' ' << value_b.value() << std::endl;  // print(a, b): str, not repr
}

// wait() splits the tasks into done and pending (ALL_COMPLETED is the default).
aio::Task<> main_wait() {
  auto task1 = aio::create_task(a());
  auto task2 = aio::create_task(b());
  std::vector tasks{task1, task2};
  auto [done, pending] = co_await aio::wait(tasks, {.return_when = aio::ALL_COMPLETED});
  for (auto& task : done) std::cout << "Task " << task.get_name() << " result: " << task.result() << std::endl;
}

// create_task schedules both at once; awaiting them only collects.
aio::Task<> main_create_task() {
  auto task1 = aio::create_task(a());
  auto task2 = aio::create_task(b());
  std::cout << co_await task1 << ' ' << co_await task2 << std::endl;
}

// ensure_future: a coroutine becomes a scheduled task, a task or future passes through.
aio::Task<> main_ensure_future() {
  auto task1 = aio::ensure_future(a());
  auto task2 = aio::ensure_future(b());
  co_await task1;
  co_await task2;
}

// Cancelled before its first step, b never runs.
aio::Task<> main_cancel() {
  auto& loop = aio::get_event_loop();
  auto task1 = loop.create_task(a());
  auto task2 = loop.create_task(b());
  task2.cancel();
  co_await task1;
  std::cout << "task2 cancelled: " << std::boolalpha << task2.cancelled() << std::endl;
}

// shield: cancelling the outer future leaves b running to the end.
aio::Task<> main_shield() {
  auto& loop = aio::get_event_loop();
  auto task1 = loop.create_task(a());
  auto task2 = aio::shield(b());
  task2.cancel();
  co_await task1;
  std::cout << "outer cancelled: " << std::boolalpha << task2.cancelled() << std::endl;
}

int main() {
  std::cout << "== gather ==" << std::endl;
  aio::run(main_gather());
  std::cout << "== wait ==" << std::endl;
  aio::run(main_wait());
  std::cout << "== create_task ==" << std::endl;
  aio::run(main_create_task());
  std::cout << "== ensure_future ==" << std::endl;
  aio::run(main_ensure_future());
  std::cout << "== cancel ==" << std::endl;
  aio::run(main_cancel());
  std::cout << "== shield ==" << std::endl;
  aio::run(main_shield());
}
