// as_completed: results in the order they finish, errors rethrown, timeout.
#include <stdexcept>
#include <string>
#include <vector>

#include "helpers.hpp"

using aio_test::value_after;
using aio_test::fail_after;

AIO_TEST(AsCompleted, InCompletionOrder) {
  std::vector<aio::Task<int>> work;
  work.push_back(value_after(3, 3));
  work.push_back(value_after(1, 1));
  work.push_back(value_after(2, 2));
  std::vector<int> seen;
  std::vector<double> times;
  for (auto next : aio::as_completed(std::move(work))) {
    seen.push_back(co_await next);
    times.push_back(aio::get_running_loop().time());
  }
  EXPECT_EQ(seen, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(times, (std::vector<double>{1, 2, 3}));
}

AIO_TEST(AsCompleted, HandlesAndAlreadyDone) {
  std::vector<aio::TaskHandle<int>> tasks{aio::create_task(value_after(2, 20)), aio::create_task(value_after(0, 0)),
                                          aio::create_task(value_after(1, 10))};
  co_await aio::sleep(0);  // tasks[1] is done before as_completed starts
  std::vector<int> seen;
  for (auto next : aio::as_completed(tasks)) seen.push_back(co_await next);
  EXPECT_EQ(seen, (std::vector<int>{0, 10, 20}));
}

AIO_TEST(AsCompleted, DuplicatesAreAwaitedOnce) {
  // asyncio's as_completed builds a set: [t, t, u] yields two results.
  auto twice = aio::create_task(value_after(2, 2));
  auto done_twice = aio::create_task(value_after(0, 0));
  auto once = aio::create_task(value_after(1, 1));
  co_await aio::sleep(0);
  std::vector<aio::TaskHandle<int>> tasks{twice, done_twice, twice, once, done_twice};
  std::vector<int> seen;
  for (auto next : aio::as_completed(tasks)) seen.push_back(co_await next);
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(aio::get_running_loop().time(), 2.0);
}

AIO_TEST(AsCompleted, ErrorsAreRethrownInTurn) {
  std::vector<aio::Task<int>> work;
  work.push_back(value_after(2, 2));
  work.push_back(fail_after(1));
  std::vector<std::string> seen;
  for (auto next : aio::as_completed(std::move(work))) {
    try {
      seen.push_back(std::to_string(co_await next));
    } catch (const std::runtime_error& e) {
      seen.push_back(e.what());
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"failed", "2"}));
}

AIO_TEST(AsCompleted, Timeout) {
  std::vector<aio::TaskHandle<int>> tasks{aio::create_task(value_after(1, 1)), aio::create_task(value_after(10, 10)),
                                          aio::create_task(value_after(20, 20))};
  std::vector<std::string> seen;
  for (auto next : aio::as_completed(tasks, {.timeout = 5})) {
    try {
      seen.push_back(std::to_string(co_await next));
    } catch (const aio::TimeoutError&) {
      seen.push_back("TimeoutError at " + std::to_string(static_cast<int>(aio::get_running_loop().time())));
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"1", "TimeoutError at 5", "TimeoutError at 5"}));
  EXPECT_FALSE(tasks[1].done());  // as asyncio, the timeout does not cancel the work
  EXPECT_EQ(co_await tasks[1], 10);
  EXPECT_EQ(aio::current_task().cancelling(), 0);
}

AIO_TEST(AsCompleted, StopIteratingEarly) {
  std::vector<aio::TaskHandle<int>> tasks{aio::create_task(value_after(1, 1)), aio::create_task(value_after(2, 2))};
  for (auto next : aio::as_completed(tasks)) {
    EXPECT_EQ(co_await next, 1);
    break;  // the rest keep running, nothing dangles
  }
  co_await aio::sleep(5);
  EXPECT_EQ(tasks[1].result(), 2);
}
