// shield: cancelling the waiter (or the shield's future) leaves the inner work running.
#include <stdexcept>
#include <string>
#include <vector>

#include "helpers.hpp"

using Lines = std::vector<std::string>;

namespace {

aio::Task<std::string> work(Lines* out, double delay, std::string v) {
  out->push_back("work started");
  co_await aio::sleep(delay);
  out->push_back("work done");
  co_return v;
}

}  // namespace

AIO_TEST(Shield, CancellingTheOuterTaskLeavesTheInnerRunning) {
  Lines out;
  auto inner = aio::create_task(work(&out, 5, "B"));
  auto outer = aio::create_task([](aio::TaskHandle<std::string> in) -> aio::Task<std::string> {
    co_return co_await aio::shield(in);
  }(inner));
  co_await aio::sleep(1);
  outer.cancel();
  EXPECT_THROW(co_await outer, aio::CancelledError);
  EXPECT_TRUE(outer.cancelled());
  EXPECT_FALSE(inner.done());
  EXPECT_FALSE(inner.cancelled());
  EXPECT_EQ(co_await inner, "B");  // its result is still there
  EXPECT_EQ(out, (Lines{"work started", "work done"}));
}

AIO_TEST(Shield, CancellingTheShieldFutureOnly) {
  // seed 002: task2 = asyncio.shield(b()); task2.cancel() — b() still runs to the end.
  Lines out;
  auto shielded = aio::shield(work(&out, 1, "B"));
  EXPECT_TRUE(shielded.cancel());
  EXPECT_TRUE(shielded.cancelled());
  EXPECT_THROW(co_await shielded, aio::CancelledError);
  co_await aio::sleep(2);
  EXPECT_EQ(out, (Lines{"work started", "work done"}));
}

AIO_TEST(Shield, PassesTheResultThrough) {
  Lines out;
  EXPECT_EQ(co_await aio::shield(work(&out, 1, "v")), "v");
  auto done = aio::create_task(work(&out, 0, "done"));
  co_await done;
  EXPECT_EQ(co_await aio::shield(done), "done");
}

AIO_TEST(Shield, PassesTheExceptionThrough) {
  auto failing = []() -> aio::Task<int> {
    co_await aio::sleep(1);
    throw std::out_of_range("inner failed");
  };
  EXPECT_THROW(co_await aio::shield(failing()), std::out_of_range);
}

AIO_TEST(Shield, InnerCancelledCancelsTheOuter) {
  Lines out;
  auto inner = aio::create_task(work(&out, 5, "x"));
  auto shielded = aio::shield(inner);
  co_await aio::sleep(1);
  inner.cancel();
  EXPECT_THROW(co_await shielded, aio::CancelledError);
  EXPECT_TRUE(shielded.cancelled());
}

AIO_TEST(Shield, InnerErrorAfterTheOuterWasCancelledIsNotReported) {
  std::vector<aio_test::HandlerCall> calls;
  aio_test::capture_exceptions(aio::get_running_loop(), calls);
  auto failing = []() -> aio::Task<int> {
    co_await aio::sleep(1);
    throw std::runtime_error("late");
  };
  {
    auto shielded = aio::shield(failing());
    shielded.cancel();
  }
  co_await aio::sleep(2);
  EXPECT_TRUE(calls.empty());
}

AIO_TEST(Shield, AroundAGather) {
  auto& loop = aio::get_running_loop();
  auto child1 = loop.create_future<int>();
  auto child2 = loop.create_future<int>();
  auto parent = aio::ensure_future(aio::gather(child1, child2));
  auto outer = aio::shield(parent);
  co_await aio::sleep(0);
  outer.cancel();
  co_await aio::sleep(0);
  EXPECT_TRUE(outer.cancelled());
  child1.set_result(1);
  child2.set_result(2);
  auto [a, b] = co_await parent;
  EXPECT_EQ(a + b, 3);
}

AIO_TEST(Shield, GatherOfShields) {
  auto& loop = aio::get_running_loop();
  auto child1 = loop.create_future<int>();
  auto child2 = loop.create_future<int>();
  auto g = aio::ensure_future(aio::gather(aio::shield(child1), aio::shield(child2)));
  co_await aio::sleep(0);
  g.cancel();
  EXPECT_THROW(co_await g, aio::CancelledError);
  EXPECT_FALSE(child1.cancelled());
  EXPECT_FALSE(child2.cancelled());
  child1.set_result(1);
  child2.set_result(2);
  co_await aio::sleep(0);
}
