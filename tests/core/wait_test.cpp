// wait: ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION, timeout (no exception),
// empty input, structured bindings, futures.
#include <stdexcept>
#include <string>
#include <vector>

#include "helpers.hpp"

using aio_test::value_after;
using aio_test::fail_after;
using Lines = std::vector<std::string>;

namespace {

std::vector<int> results(const std::vector<aio::TaskHandle<int>>& tasks) {
  std::vector<int> out;
  for (auto& t : tasks) out.push_back(t.result());
  return out;
}

}  // namespace

AIO_TEST(Wait, AllCompletedByDefault) {
  std::vector<aio::TaskHandle<int>> tasks{aio::create_task(value_after(2, 1)), aio::create_task(value_after(1, 2))};
  auto [done, pending] = co_await aio::wait(tasks);
  EXPECT_EQ(done.size(), 2u);
  EXPECT_TRUE(pending.empty());
  EXPECT_EQ(results(done), (std::vector<int>{1, 2}));  // input order
  EXPECT_EQ(aio::get_running_loop().time(), 2.0);
}

AIO_TEST(Wait, FirstCompleted) {
  std::vector<aio::TaskHandle<int>> tasks{aio::create_task(value_after(3, 1)), aio::create_task(value_after(1, 2)),
                                          aio::create_task(value_after(2, 3))};
  auto [done, pending] = co_await aio::wait(tasks, {.return_when = aio::FIRST_COMPLETED});
  EXPECT_EQ(results(done), std::vector<int>{2});
  CO_ASSERT_EQ(pending.size(), 2u);
  EXPECT_TRUE(pending[0] == tasks[0]);
  EXPECT_TRUE(pending[1] == tasks[2]);
  EXPECT_FALSE(pending[0].cancelled());  // wait() never cancels
  auto rest = co_await aio::wait(pending);
  EXPECT_EQ(results(rest.done), (std::vector<int>{1, 3}));
}

AIO_TEST(Wait, FirstException) {
  std::vector<aio::TaskHandle<int>> tasks{aio::create_task(value_after(1, 1)), aio::create_task(fail_after(2)),
                                          aio::create_task(value_after(3, 3))};
  auto [done, pending] = co_await aio::wait(tasks, {.return_when = aio::FIRST_EXCEPTION});
  EXPECT_EQ(done.size(), 2u);
  EXPECT_EQ(pending.size(), 1u);
  EXPECT_EQ(aio::get_running_loop().time(), 2.0);
  EXPECT_THROW(tasks[1].result(), std::runtime_error);  // wait() itself does not raise
  co_await tasks[2];
}

AIO_TEST(Wait, FirstExceptionWithoutAnyFailureWaitsForAll) {
  std::vector<aio::TaskHandle<int>> tasks{aio::create_task(value_after(1, 1)), aio::create_task(value_after(2, 2))};
  auto [done, pending] = co_await aio::wait(tasks, {.return_when = aio::FIRST_EXCEPTION});
  EXPECT_EQ(done.size(), 2u);
  EXPECT_TRUE(pending.empty());
}

AIO_TEST(Wait, FirstExceptionIgnoresCancellation) {
  std::vector<aio::TaskHandle<int>> tasks{aio::create_task(value_after(5, 1)), aio::create_task(value_after(2, 2))};
  co_await aio::sleep(0);
  tasks[0].cancel();  // a cancelled task is done but is not an exception
  auto [done, pending] = co_await aio::wait(tasks, {.return_when = aio::FIRST_EXCEPTION});
  EXPECT_EQ(done.size(), 2u);
  EXPECT_EQ(aio::get_running_loop().time(), 2.0);
}

AIO_TEST(Wait, AlreadyDoneFirstException) {
  std::vector<aio::TaskHandle<int>> tasks{aio::create_task(fail_after(0)), aio::create_task(value_after(5, 1))};
  co_await aio::sleep(1);
  auto [done, pending] = co_await aio::wait(tasks, {.return_when = aio::FIRST_EXCEPTION});
  EXPECT_EQ(done.size(), 1u);
  EXPECT_EQ(pending.size(), 1u);
  EXPECT_EQ(aio::get_running_loop().time(), 1.0);
  tasks[0].exception();
  pending[0].cancel();
}

AIO_TEST(Wait, TimeoutReturnsWhatIsDoneWithoutRaising) {
  std::vector<aio::TaskHandle<int>> tasks{aio::create_task(value_after(1, 1)), aio::create_task(value_after(10, 2))};
  auto [done, pending] = co_await aio::wait(tasks, {.timeout = 5});
  EXPECT_EQ(aio::get_running_loop().time(), 5.0);
  EXPECT_EQ(results(done), std::vector<int>{1});
  CO_ASSERT_EQ(pending.size(), 1u);
  EXPECT_FALSE(pending[0].done());
  EXPECT_FALSE(pending[0].cancelled());  // left running
  EXPECT_EQ(co_await pending[0], 2);
  EXPECT_EQ(aio::current_task().cancelling(), 0);  // the timeout left no trace on the waiter
}

AIO_TEST(Wait, TimeoutNotReached) {
  std::vector<aio::TaskHandle<int>> tasks{aio::create_task(value_after(1, 1))};
  auto [done, pending] = co_await aio::wait(tasks, {.timeout = 5});
  EXPECT_EQ(done.size(), 1u);
  EXPECT_EQ(aio::get_running_loop().time(), 1.0);
}

AIO_TEST(Wait, EmptyInputIsAnError) {
  std::vector<aio::TaskHandle<int>> none;
  EXPECT_THROW(co_await aio::wait(none), std::invalid_argument);
}

AIO_TEST(Wait, DuplicatesCollapse) {
  // asyncio.wait([t, t]) returns done={t}: its input is a set.
  auto a = aio::create_task(value_after(1, 1));
  auto b = aio::create_task(value_after(2, 2));
  std::vector<aio::TaskHandle<int>> tasks{a, b, a, b, a};
  const aio::WaitOptions first_completed{.return_when = aio::FIRST_COMPLETED};
  auto [done, pending] = co_await aio::wait(tasks, first_completed);
  CO_ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0] == a);
  CO_ASSERT_EQ(pending.size(), 1u);
  EXPECT_TRUE(pending[0] == b);
  auto all = co_await aio::wait(tasks);
  EXPECT_EQ(results(all.done), (std::vector<int>{1, 2}));  // first places kept, in input order
  EXPECT_TRUE(all.pending.empty());
}

AIO_TEST(Wait, Futures) {
  auto& loop = aio::get_running_loop();
  std::vector<aio::Future<std::string>> fs{loop.create_future<std::string>(), loop.create_future<std::string>()};
  loop.call_later(1, [f = fs[1]] { f.set_result("second"); });
  auto [done, pending] = co_await aio::wait(fs, {.return_when = aio::FIRST_COMPLETED});
  CO_ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].result(), "second");
  EXPECT_TRUE(pending[0] == fs[0]);
}

AIO_TEST(Wait, CancellingTheWaiterLeavesTheTasksAlone) {
  std::vector<aio::TaskHandle<int>> tasks{aio::create_task(value_after(5, 1))};
  auto waiter = aio::create_task([](std::vector<aio::TaskHandle<int>> ts) -> aio::Task<> {
    co_await aio::wait(ts);
  }(tasks));
  co_await aio::sleep(1);
  waiter.cancel();
  EXPECT_THROW(co_await waiter, aio::CancelledError);
  EXPECT_FALSE(tasks[0].cancelled());
  EXPECT_EQ(co_await tasks[0], 1);
}

AIO_TEST(Wait, RunUntilCompleteOfWaitLikeTheOldStyle) {
  // wait() returns an awaitable that can itself be made a task.
  std::vector<aio::TaskHandle<int>> tasks{aio::create_task(value_after(1, 1)), aio::create_task(value_after(2, 2))};
  auto w = aio::ensure_future(aio::wait(tasks));
  auto result = co_await w;
  EXPECT_EQ(result.done.size(), 2u);
}
