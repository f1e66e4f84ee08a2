// Future: set_result / set_exception / cancel, InvalidStateError, awaiting, callbacks, repr.
#include <stdexcept>
#include <string>
#include <vector>

#include "helpers.hpp"

using aio_test::repr;
using Lines = std::vector<std::string>;

AIO_TEST(Future, SetResult) {
  auto f = aio::get_running_loop().create_future<int>();
  EXPECT_FALSE(f.done());
  EXPECT_THROW(f.result(), aio::InvalidStateError);
  EXPECT_THROW(f.exception(), aio::InvalidStateError);
  aio::get_running_loop().call_later(1, [f] { f.set_result(7); });
  EXPECT_EQ(co_await f, 7);
  EXPECT_TRUE(f.done());
  EXPECT_FALSE(f.cancelled());
  EXPECT_EQ(f.result(), 7);
  EXPECT_EQ(f.exception(), nullptr);
}

AIO_TEST(Future, SetException) {
  auto f = aio::get_running_loop().create_future<std::string>();
  f.set_exception(std::invalid_argument("bad"));
  EXPECT_TRUE(f.done());
  EXPECT_THROW(co_await f, std::invalid_argument);
  EXPECT_THROW(f.result(), std::invalid_argument);
  EXPECT_EQ(aio::describe(f.exception()), "std::invalid_argument('bad')");

  auto g = aio::get_running_loop().create_future<int>();
  g.set_exception(std::make_exception_ptr(std::out_of_range("range")));
  EXPECT_THROW(g.result(), std::out_of_range);
}

AIO_TEST(Future, DoubleSetIsInvalidState) {
  auto f = aio::get_running_loop().create_future<int>();
  f.set_result(1);
  EXPECT_THROW(f.set_result(2), aio::InvalidStateError);
  EXPECT_THROW(f.set_exception(std::runtime_error("x")), aio::InvalidStateError);
  EXPECT_EQ(f.result(), 1);

  auto g = aio::get_running_loop().create_future<int>();
  g.set_exception(std::runtime_error("first"));
  EXPECT_THROW(g.set_result(1), aio::InvalidStateError);
  g.exception();

  auto c = aio::get_running_loop().create_future<int>();
  EXPECT_TRUE(c.cancel());
  EXPECT_THROW(c.set_result(1), aio::InvalidStateError);
  co_return;
}

AIO_TEST(Future, Cancel) {
  auto f = aio::get_running_loop().create_future<int>();
  EXPECT_TRUE(f.cancel("why"));
  EXPECT_TRUE(f.done());
  EXPECT_TRUE(f.cancelled());
  EXPECT_FALSE(f.cancel());
  try {
    co_await f;
    ADD_FAILURE();
  } catch (const aio::CancelledError& e) {
    EXPECT_STREQ(e.what(), "why");
  }
  EXPECT_THROW(f.result(), aio::CancelledError);
  EXPECT_THROW(f.exception(), aio::CancelledError);

  auto done = aio::get_running_loop().create_future<int>();
  done.set_result(1);
  EXPECT_FALSE(done.cancel());
  EXPECT_FALSE(done.cancelled());
}

AIO_TEST(Future, VoidFuture) {
  aio::Future<> f = aio::get_running_loop().create_future();
  aio::get_running_loop().call_soon([f] { f.set_result(); });
  co_await f;
  EXPECT_TRUE(f.done());
  f.result();
  EXPECT_EQ(repr(f), "<Future finished result=None>");
}

AIO_TEST(Future, EveryAwaiterWakesInOrder) {
  Lines out;
  auto f = aio::get_running_loop().create_future<int>();
  auto waiter = [](aio::Future<int> fut, Lines* o, std::string name) -> aio::Task<> {
    int v = co_await fut;
    o->push_back(name + " got " + std::to_string(v));
  };
  auto a = aio::create_task(waiter(f, &out, "a"));
  auto b = aio::create_task(waiter(f, &out, "b"));
  auto c = aio::create_task(waiter(f, &out, "c"));
  co_await aio::sleep(0);
  f.set_result(3);
  co_await aio::gather(a, b, c);
  EXPECT_EQ(out, (Lines{"a got 3", "b got 3", "c got 3"}));
}

AIO_TEST(Future, DoneCallbacks) {
  Lines out;
  auto f = aio::get_running_loop().create_future<std::string>();
  f.add_done_callback([&](aio::Future<std::string>& x) { out.push_back("1:" + x.result()); });
  auto id = f.add_done_callback([&](aio::Future<std::string>&) { out.push_back("removed"); });
  f.add_done_callback([&](aio::Future<std::string>& x) { out.push_back("2:" + x.result()); });
  EXPECT_EQ(f.remove_done_callback(id), 1u);
  f.set_result("v");
  EXPECT_TRUE(out.empty());  // callbacks are scheduled, not called synchronously
  co_await aio::sleep(0);
  EXPECT_EQ(out, (Lines{"1:v", "2:v"}));
  f.add_done_callback([&](aio::Future<std::string>&) { out.push_back("late"); });
  co_await aio::sleep(0);
  EXPECT_EQ(out.back(), "late");
}

AIO_TEST(Future, Repr) {
  auto f = aio::get_running_loop().create_future<int>();
  EXPECT_EQ(repr(f), "<Future pending>");
  f.set_result(1);
  EXPECT_EQ(repr(f), "<Future finished result=1>");
  auto s = aio::get_running_loop().create_future<std::string>();
  s.set_result("A");
  EXPECT_EQ(repr(s), "<Future finished result='A'>");
  auto e = aio::get_running_loop().create_future<int>();
  e.set_exception(std::runtime_error("boom"));
  EXPECT_EQ(repr(e), "<Future finished exception=std::runtime_error('boom')>");
  e.exception();
  auto c = aio::get_running_loop().create_future<int>();
  c.cancel();
  EXPECT_EQ(repr(c), "<Future cancelled>");
  EXPECT_EQ(repr(aio::Future<int>()), "<Future empty>");
  co_return;
}

AIO_TEST(Future, IdentityAndEmptyHandles) {
  auto f = aio::get_running_loop().create_future<int>();
  auto g = f;
  EXPECT_TRUE(f == g);
  EXPECT_FALSE(f == aio::get_running_loop().create_future<int>());
  EXPECT_FALSE(aio::Future<int>());
  g.set_result(2);
  EXPECT_EQ(f.result(), 2);  // copies share one future
  co_return;
}

AIO_TEST(Future, NeverRetrievedIsReported) {
  std::vector<aio_test::HandlerCall> calls;
  aio_test::capture_exceptions(aio::get_running_loop(), calls);
  {
    auto f = aio::get_running_loop().create_future<int>();
    f.set_exception(std::runtime_error("unseen"));
  }
  {
    auto f = aio::get_running_loop().create_future<int>();
    f.set_exception(std::runtime_error("seen"));
    EXPECT_THROW(f.result(), std::runtime_error);
  }
  CO_ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].message, "Future exception was never retrieved");
  EXPECT_EQ(calls[0].exception, "std::runtime_error('unseen')");
  EXPECT_EQ(calls[0].task, "");
}

AIO_TEST(Future, PendingFutureDroppedWithCallbacksIsFreed) {
  int ran = 0;
  {
    auto f = aio::get_running_loop().create_future<int>();
    f.add_done_callback([&](aio::Future<int>&) { ++ran; });
  }  // nobody can set it any more: the callback is freed, never run (ASan checks the leak)
  co_await aio::sleep(0);
  EXPECT_EQ(ran, 0);
}

AIO_TEST(Future, SetFromAnotherTask) {
  auto f = aio::get_running_loop().create_future<int>();
  auto setter = aio::create_task([](aio::Future<int> fut) -> aio::Task<> {
    co_await aio::sleep(2);
    fut.set_result(11);
  }(f));
  EXPECT_EQ(co_await f, 11);
  co_await setter;
}

AIO_TEST(Future, CancelWakesTheAwaitingTaskWithCancelledError) {
  auto f = aio::get_running_loop().create_future<int>();
  aio::get_running_loop().call_later(1, [f] { f.cancel("timeout-ish"); });
  try {
    co_await f;
    ADD_FAILURE();
  } catch (const aio::CancelledError& e) {
    EXPECT_STREQ(e.what(), "timeout-ish");
  }
  // the awaiting task itself was not cancelled: it goes on
  EXPECT_EQ(aio::current_task().cancelling(), 0);
  co_await aio::sleep(1);
}
