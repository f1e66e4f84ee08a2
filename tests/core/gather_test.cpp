// gather: variadic and range, order of results, void -> monostate, return_exceptions
// with Result<T>, the first error propagating at once, cancellation of the gathering.
#include <list>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "helpers.hpp"

using aio_test::value_after;
using aio_test::text_after;
using aio_test::list_repr;
using Lines = std::vector<std::string>;

namespace {

aio::Task<> nothing_after(double delay, Lines* out) {
  co_await aio::sleep(delay);
  out->push_back("void done");
}

aio::Task<int> divide(double delay, int a, int b) {
  co_await aio::sleep(delay);
  if (b == 0) throw std::domain_error("division by zero");  // Python's ZeroDivisionError
  co_return a / b;
}

aio::Task<int> cancellable(Lines* out, std::string name) {
  try {
    co_await aio::sleep(100);
  } catch (const aio::CancelledError&) {
    out->push_back(name + " cancelled");
    throw;
  }
  co_return 0;
}

aio::Task<int> cancel_then_await(aio::TaskHandle<int> t) {
  co_await aio::sleep(0);
  t.cancel();
  co_return co_await t;
}

}  // namespace

AIO_TEST(Gather, VariadicResultsInArgumentOrder) {
  Lines out;
  auto [a, b, c] = co_await aio::gather(value_after(3, 1, &out), value_after(1, 2, &out), value_after(2, 3, &out));
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 2);
  EXPECT_EQ(c, 3);
  EXPECT_EQ(out, (Lines{"done 2", "done 3", "done 1"}));  // they ran concurrently
  EXPECT_EQ(aio::get_running_loop().time(), 3.0);            // virtual clock: 3 s, not 6
}

AIO_TEST(Gather, ChildrenAreScheduledLeftToRight) {
  Lines out;
  auto named = [](Lines* o) -> aio::Task<int> {
    o->push_back(aio::current_task().get_name());
    co_return 0;
  };
  co_await aio::gather(named(&out), named(&out), named(&out));
  EXPECT_EQ(out, (Lines{"Task-2", "Task-3", "Task-4"}));
}

AIO_TEST(Gather, MixedAwaitablesAndTypes) {
  auto handle = aio::create_task(text_after(1, "handle"));
  auto fut = aio::get_running_loop().create_future<double>();
  aio::get_running_loop().call_later(2, [fut] { fut.set_result(2.5); });
  Lines out;
  auto [s, d, i, v] = co_await aio::gather(handle, fut, value_after(0, 4), nothing_after(1, &out));
  EXPECT_EQ(s, "handle");
  EXPECT_EQ(d, 2.5);
  EXPECT_EQ(i, 4);
  static_assert(std::is_same_v<decltype(v), std::monostate>);
  EXPECT_EQ(out, Lines{"void done"});
}

AIO_TEST(Gather, RangeOfLazyTasks) {
  std::vector<aio::Task<int>> work;
  for (int i = 0; i < 5; ++i) work.push_back(value_after(5 - i, i));
  std::vector<int> results = co_await aio::gather(std::move(work));
  EXPECT_EQ(results, (std::vector<int>{0, 1, 2, 3, 4}));
}

AIO_TEST(Gather, RangeOfHandles) {
  std::list<aio::TaskHandle<int>> handles;
  for (int i = 0; i < 3; ++i) handles.push_back(aio::create_task(value_after(i % 2, i * 10)));
  auto results = co_await aio::gather(handles);
  EXPECT_EQ(results, (std::vector<int>{0, 10, 20}));
  std::vector<aio::Task<>> voids;
  Lines out;
  voids.push_back(nothing_after(1, &out));
  voids.push_back(nothing_after(0, &out));
  auto none = co_await aio::gather(std::move(voids));
  EXPECT_EQ(none.size(), 2u);
  static_assert(std::is_same_v<decltype(none), std::vector<std::monostate>>);
}

AIO_TEST(Gather, TheSameChildTwice) {
  auto t = aio::create_task(value_after(1, 4));
  auto [a, b] = co_await aio::gather(t, t);
  EXPECT_EQ(a + b, 8);
  auto u = aio::create_task(value_after(1, 5));
  std::vector<aio::TaskHandle<int>> twice(2, u);
  auto fives = co_await aio::gather(twice);
  EXPECT_EQ(fives, (std::vector<int>{5, 5}));
  auto failing = aio::create_task(divide(1, 1, 0));
  std::vector<aio::TaskHandle<int>> failing_twice(2, failing);
  auto results = co_await aio::gather(aio::return_exceptions, failing_twice);
  EXPECT_EQ(list_repr(results), "[std::domain_error('division by zero'), std::domain_error('division by zero')]");
}

AIO_TEST(Gather, EmptyRangeGivesAnEmptyVector) {
  std::vector<aio::TaskHandle<int>> none;
  auto results = co_await aio::gather(none);
  EXPECT_TRUE(results.empty());
}

AIO_TEST(Gather, ReturnExceptions) {
  auto cancelled = aio::create_task(value_after(3, 3));
  auto results = co_await aio::gather(aio::return_exceptions, divide(1, 1, 1), divide(1, 2, 0),
                                      cancel_then_await(cancelled));
  auto& [ok, failed, was_cancelled] = results;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.value(), 1);
  EXPECT_EQ(ok.error(), nullptr);
  EXPECT_FALSE(ok.cancelled());
  EXPECT_FALSE(failed.ok());
  EXPECT_FALSE(failed.cancelled());
  EXPECT_THROW(failed.value(), std::domain_error);
  EXPECT_EQ(aio::describe(failed.error()), "std::domain_error('division by zero')");
  EXPECT_FALSE(was_cancelled.ok());
  EXPECT_TRUE(was_cancelled.cancelled());
  EXPECT_THROW(was_cancelled.value(), aio::CancelledError);
  EXPECT_EQ(aio_test::repr(ok), "1");
  EXPECT_EQ(aio_test::repr(failed), "std::domain_error('division by zero')");
  EXPECT_EQ(aio_test::repr(was_cancelled), "aio::CancelledError()");
}

AIO_TEST(Gather, ReturnExceptionsRangePrintsLikePython) {
  std::vector<aio::TaskHandle<int>> tasks{aio::create_task(divide(1, 1, 1)), aio::create_task(divide(2, 2, 0)),
                                          aio::create_task(divide(3, 3, 1))};
  co_await aio::sleep(2);
  tasks[2].cancel();
  auto results = co_await aio::gather(aio::return_exceptions, tasks);
  EXPECT_EQ(list_repr(results), "[1, std::domain_error('division by zero'), aio::CancelledError()]");
  std::vector<aio::Task<std::string>> texts;
  texts.push_back(text_after(0, "A"));
  EXPECT_EQ(list_repr(co_await aio::gather(aio::return_exceptions, std::move(texts))), "['A']");
  std::vector<aio::Task<>> voids;
  Lines out;
  voids.push_back(nothing_after(0, &out));
  EXPECT_EQ(list_repr(co_await aio::gather(aio::return_exceptions, std::move(voids))), "[None]");
}

AIO_TEST(Gather, FirstExceptionPropagatesAtOnceWhileOthersKeepRunning) {
  Lines out;
  auto slow = aio::create_task(value_after(5, 5, &out));
  try {
    co_await aio::gather(divide(1, 1, 0), slow, value_after(2, 2, &out));
    ADD_FAILURE() << "no exception";
  } catch (const std::domain_error& e) {
    out.push_back(std::string("caught ") + e.what());
  }
  EXPECT_EQ(aio::get_running_loop().time(), 1.0);
  EXPECT_FALSE(slow.done());  // not cancelled
  EXPECT_EQ(co_await slow, 5);
  EXPECT_EQ(out, (Lines{"caught division by zero", "done 2", "done 5"}));
}

AIO_TEST(Gather, LaterErrorsAreNotReportedAsNeverRetrieved) {
  std::vector<aio_test::HandlerCall> calls;
  aio_test::capture_exceptions(aio::get_running_loop(), calls);
  EXPECT_THROW(co_await aio::gather(divide(1, 1, 0), divide(2, 1, 0)), std::domain_error);
  co_await aio::sleep(3);
  EXPECT_TRUE(calls.empty());
}

AIO_TEST(Gather, RangeOfLazyTasksCountsErrorsFromTheStart) {
  // Lazy tasks are registered as gather() creates them: the first error wins even when
  // every child failed before the await, and the later one is not reported as lost.
  std::vector<aio_test::HandlerCall> calls;
  aio_test::capture_exceptions(aio::get_running_loop(), calls);
  std::vector<aio::Task<int>> children;
  children.push_back(value_after(0, 1));
  children.push_back(aio_test::fail_after(2));
  children.push_back(divide(1, 1, 0));
  auto gathering = aio::gather(std::move(children));
  co_await aio::sleep(3);
  EXPECT_THROW(co_await std::move(gathering), std::domain_error);
  co_await aio::sleep(0);
  EXPECT_TRUE(calls.empty());
}

AIO_TEST(Gather, UnawaitedGatherOfLazyTasksLeavesTheirErrorsReported) {
  std::vector<aio_test::HandlerCall> calls;
  aio_test::capture_exceptions(aio::get_running_loop(), calls);
  {
    std::vector<aio::Task<int>> children;
    children.push_back(divide(1, 1, 0));
    auto gathering = aio::gather(std::move(children));
  }  // never awaited: the task runs on, and nobody looks at its exception
  co_await aio::sleep(2);
  EXPECT_EQ(calls.size(), 1u);
  for (const auto& call : calls) EXPECT_EQ(call.message, "Task exception was never retrieved");
}

AIO_TEST(Gather, AlreadyFailedChild) {
  auto failed = aio::create_task(divide(0, 1, 0));
  co_await aio::sleep(1);
  EXPECT_THROW(co_await aio::gather(failed, value_after(1, 1)), std::domain_error);
}

AIO_TEST(Gather, CancellingTheGatheringFutureCancelsEveryChild) {
  Lines out;
  auto a = aio::create_task(cancellable(&out, "a"));
  auto b = aio::create_task(cancellable(&out, "b"));
  auto g = aio::ensure_future(aio::gather(a, b));
  co_await aio::sleep(0);
  EXPECT_TRUE(g.cancel());
  EXPECT_THROW(co_await g, aio::CancelledError);
  EXPECT_TRUE(g.cancelled());
  EXPECT_TRUE(a.cancelled());
  EXPECT_TRUE(b.cancelled());
  EXPECT_EQ(out, (Lines{"a cancelled", "b cancelled"}));
}

AIO_TEST(Gather, CancellingTheGatheringFutureWithReturnExceptions) {
  Lines out;
  auto a = aio::create_task(cancellable(&out, "a"));
  auto done = aio::create_task(value_after(0, 1));
  auto g = aio::ensure_future(aio::gather(aio::return_exceptions, a, done));
  co_await aio::sleep(1);
  EXPECT_TRUE(g.cancel());
  EXPECT_THROW(co_await g, aio::CancelledError);  // asyncio: the gathering itself is cancelled
  EXPECT_TRUE(a.cancelled());
  EXPECT_EQ(done.result(), 1);
}

AIO_TEST(Gather, CancelMessageReachesTheAwaiter) {
  // asyncio: the gather's CancelledError carries the cancel() message, with or without
  // return_exceptions.
  for (bool return_exceptions : {false, true}) {
    auto waiter = aio::create_task([](bool re) -> aio::Task<> {
      if (re) co_await aio::gather(aio::return_exceptions, aio::sleep(10, 1));
      else co_await aio::gather(aio::sleep(10, 1));
    }(return_exceptions));
    co_await aio::sleep(1);
    waiter.cancel("my message");
    try {
      co_await waiter;
      ADD_FAILURE();
    } catch (const aio::CancelledError& e) {
      EXPECT_STREQ(e.what(), "my message") << "return_exceptions=" << return_exceptions;
    }
  }
}

AIO_TEST(Gather, CancellingTheGatheringCancelsAFutureChild) {
  auto f = aio::get_running_loop().create_future<int>();
  auto g = aio::ensure_future(aio::gather(f, value_after(1, 1)));
  co_await aio::sleep(0);
  g.cancel();
  EXPECT_THROW(co_await g, aio::CancelledError);
  EXPECT_TRUE(f.cancelled());
}

AIO_TEST(Gather, CancellingTheAwaitingTaskCancelsEveryChild) {
  Lines out;
  auto a = aio::create_task(cancellable(&out, "a"));
  auto waiter = aio::create_task([](aio::TaskHandle<int> x, Lines* o) -> aio::Task<> {
    co_await aio::gather(x, cancellable(o, "lazy"));
  }(a, &out));
  co_await aio::sleep(1);
  waiter.cancel();
  EXPECT_THROW(co_await waiter, aio::CancelledError);
  EXPECT_TRUE(a.cancelled());
  EXPECT_EQ(out, (Lines{"a cancelled", "lazy cancelled"}));
}

AIO_TEST(Gather, ChildCancelledOnItsOwnFailsTheGather) {
  Lines out;
  auto a = aio::create_task(cancellable(&out, "a"));
  auto b = aio::create_task(value_after(2, 2));
  auto g = aio::ensure_future(aio::gather(a, b));
  co_await aio::sleep(0);
  a.cancel();
  EXPECT_THROW(co_await g, aio::CancelledError);
  EXPECT_FALSE(b.cancelled());  // the others are not cancelled
  EXPECT_EQ(co_await b, 2);
}

AIO_TEST(Gather, EnsureFutureOfGatherIsATask) {
  auto g = aio::ensure_future(aio::gather(value_after(1, 1), text_after(2, "x")));
  EXPECT_FALSE(g.done());
  auto [i, s] = co_await g;
  EXPECT_EQ(i, 1);
  EXPECT_EQ(s, "x");
}
