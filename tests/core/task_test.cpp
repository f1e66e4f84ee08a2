// Tasks: scheduling order, laziness, results and errors, names, repr, current_task,
// all_tasks, "Task exception was never retrieved", done callbacks.
#include <stdexcept>
#include <string>
#include <vector>

#include "helpers.hpp"

using aio_test::value_after;
using aio_test::text_after;
using aio_test::fail_after;
using aio_test::repr;
using Lines = std::vector<std::string>;

namespace {

aio::Task<> note(Lines* out, std::string text) {
  out->push_back(std::move(text));
  co_return;
}

aio::Task<> ticker(Lines* out, std::string name, int n) {
  for (int i = 0; i < n; ++i) {
    out->push_back(name + std::to_string(i));
    co_await aio::sleep(0);
  }
}

aio::Task<int> fail_now() {
  throw std::domain_error("division by zero");
  co_return 0;
}

aio::Task<> forever() { co_await aio::sleep(1e6); }

}  // namespace

// ---- scheduling -------------------------------------------------------------

AIO_TEST(Task, CreateTaskIsFifoAndTheCreatorRunsOn) {
  Lines out;
  auto t1 = aio::create_task(note(&out, "t1"));
  auto t2 = aio::create_task(note(&out, "t2"));
  auto t3 = aio::create_task(note(&out, "t3"));
  out.push_back("created");
  EXPECT_FALSE(t1.done());
  co_await aio::sleep(0);
  out.push_back("main");
  EXPECT_EQ(out, (Lines{"created", "t1", "t2", "t3", "main"}));
  EXPECT_TRUE(t1.done() && t2.done() && t3.done());
}

AIO_TEST(Task, SleepZeroYieldsExactlyOnce) {
  Lines out;
  auto a = aio::create_task(ticker(&out, "a", 3));
  auto b = aio::create_task(ticker(&out, "b", 3));
  co_await a;
  co_await b;
  EXPECT_EQ(out, (Lines{"a0", "b0", "a1", "b1", "a2", "b2"}));
}

AIO_TEST(Task, SleepZeroLetsEveryReadyTaskRunOnce) {
  Lines out;
  auto a = aio::create_task(ticker(&out, "a", 2));
  out.push_back("m0");
  co_await aio::sleep(0);
  out.push_back("m1");
  co_await aio::sleep(0);
  out.push_back("m2");
  co_await a;
  EXPECT_EQ(out, (Lines{"m0", "a0", "m1", "a1", "m2"}));
}

AIO_TEST(Task, LazyTaskRunsNothingUntilAwaited) {
  Lines out;
  {
    auto never = note(&out, "never");  // dropped unawaited: its body never runs
  }
  auto lazy = note(&out, "lazy");
  co_await aio::sleep(0);
  EXPECT_TRUE(out.empty());
  co_await std::move(lazy);
  EXPECT_EQ(out, Lines{"lazy"});
}

AIO_TEST(Task, AwaitingALazyTaskRunsItInline) {
  Lines out;
  auto other = aio::create_task(note(&out, "other task"));
  co_await note(&out, "inline");  // no trip through the loop: `other` has not run yet
  out.push_back("after");
  co_await other;
  EXPECT_EQ(out, (Lines{"inline", "after", "other task"}));
  EXPECT_EQ(co_await value_after(1, 7), 7);
}

AIO_TEST(Task, AwaitingALazyTaskTwiceIsAnError) {
  auto t = value_after(0, 1);
  EXPECT_EQ(co_await t, 1);
  EXPECT_THROW(co_await t, std::runtime_error);
}

AIO_TEST(Task, AwaitingItselfIsAnError) {
  auto self = aio::current_task();
  EXPECT_THROW(co_await self, std::runtime_error);
  self.cancel();  // and cancel() does not chase its own tail
  EXPECT_THROW(co_await aio::sleep(0), aio::CancelledError);
  EXPECT_EQ(self.uncancel(), 0);
}

AIO_TEST(Task, HandleDroppedWhileRunningStillCompletes) {
  Lines out;
  aio::create_task([](Lines* o) -> aio::Task<> {
    co_await aio::sleep(1);
    o->push_back("finished");
  }(&out));
  co_await aio::sleep(2);
  EXPECT_EQ(out, Lines{"finished"});
}

// ---- results and errors ---------------------------------------------------------

AIO_TEST(Task, ResultAndDone) {
  auto t = aio::create_task(value_after(1, 42));
  EXPECT_FALSE(t.done());
  EXPECT_FALSE(t.cancelled());
  EXPECT_EQ(co_await t, 42);
  EXPECT_TRUE(t.done());
  EXPECT_EQ(t.result(), 42);
  EXPECT_EQ(t.exception(), nullptr);
  EXPECT_EQ(co_await t, 42);  // a done task can be awaited again
}

AIO_TEST(Task, ResultAndExceptionWhilePendingAreInvalidState) {
  auto t = aio::create_task(value_after(1, 1));
  EXPECT_THROW(t.result(), aio::InvalidStateError);
  EXPECT_THROW(t.exception(), aio::InvalidStateError);
  co_await t;
}

AIO_TEST(Task, AwaitingAFailedTaskRethrowsItsOwnType) {
  auto t = aio::create_task(fail_now());
  EXPECT_THROW(co_await t, std::domain_error);
  EXPECT_THROW(t.result(), std::domain_error);
  std::exception_ptr e = t.exception();
  CO_ASSERT_TRUE(e);
  EXPECT_EQ(aio::describe(e), "std::domain_error('division by zero')");
  // and inline, for a lazy Task
  EXPECT_THROW(co_await fail_after(1, "inline"), std::runtime_error);
  try {
    co_await fail_after(0, "custom");
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "custom");
  }
}

AIO_TEST(Task, NegativeSleepYieldsOnce) {
  Lines out;
  auto t = aio::create_task(note(&out, "other"));
  co_await aio::sleep(-1);
  EXPECT_EQ(out, Lines{"other"});
  EXPECT_EQ(aio::get_running_loop().time(), 0.0);
  co_await t;
}

AIO_TEST(Task, VoidTask) {
  Lines out;
  auto t = aio::create_task(note(&out, "x"));
  co_await t;
  t.result();
  EXPECT_EQ(repr(t), "<Task finished name='Task-2' result=None>");
}

// ---- names and repr -------------------------------------------------------------

AIO_TEST(Task, NamesAreTaskNUnlessGiven) {
  EXPECT_EQ(aio::current_task().get_name(), "Task-1");  // the main task of aio::run
  auto a = aio::create_task(value_after(0, 1));
  auto b = aio::create_task(value_after(0, 2), "worker");
  auto c = aio::create_task(value_after(0, 3));
  EXPECT_EQ(a.get_name(), "Task-2");
  EXPECT_EQ(b.get_name(), "worker");
  EXPECT_EQ(c.get_name(), "Task-4");
  c.set_name("renamed");
  EXPECT_EQ(c.get_name(), "renamed");
  co_await aio::gather(a, b, c);
}

AIO_TEST(Task, Repr) {
  EXPECT_EQ(repr(aio::current_task()), "<Task pending name='Task-1'>");
  auto t2 = aio::create_task(value_after(1, 1));
  auto t3 = aio::create_task(forever());
  auto t4 = aio::create_task(text_after(1, "A"));
  auto w = aio::create_task(fail_after(1, "boom"), "w");
  EXPECT_EQ(repr(t2), "<Task pending name='Task-2'>");
  EXPECT_TRUE(t3.cancel());
  EXPECT_EQ(repr(t3), "<Task pending name='Task-3'>");  // cancel() asks; the task is not done yet
  co_await aio::sleep(2);
  EXPECT_EQ(repr(t2), "<Task finished name='Task-2' result=1>");
  EXPECT_EQ(repr(t3), "<Task cancelled name='Task-3'>");
  EXPECT_EQ(repr(t4), "<Task finished name='Task-4' result='A'>");
  EXPECT_EQ(repr(w), "<Task finished name='w' exception=std::runtime_error('boom')>");
  EXPECT_EQ(repr(aio::TaskHandle<>()), "<TaskHandle empty>");
  w.exception();
}

AIO_TEST(Task, HandlesCompareByIdentity) {
  auto a = aio::create_task(value_after(0, 1));
  auto b = aio::create_task(value_after(0, 1));
  auto a2 = a;
  EXPECT_TRUE(a == a2);
  EXPECT_FALSE(a == b);
  aio::TaskHandle<> erased = a;
  EXPECT_TRUE(erased == aio::TaskHandle<>(a));
  EXPECT_FALSE(aio::TaskHandle<int>());
  EXPECT_TRUE(a);
  co_await erased;  // type-erased: waits only
  co_await b;
}

// ---- current_task / all_tasks ---------------------------------------------------

AIO_TEST(Task, CurrentTask) {
  aio::TaskHandle<> main = aio::current_task();
  EXPECT_TRUE(main);
  EXPECT_EQ(main.get_name(), "Task-1");
  aio::TaskHandle<> seen_inside;
  auto child = aio::create_task([](aio::TaskHandle<>* seen) -> aio::Task<> {
    *seen = aio::current_task();
    co_return;
  }(&seen_inside));
  co_await child;
  EXPECT_TRUE(seen_inside == aio::TaskHandle<>(child));
  EXPECT_TRUE(aio::current_task() == main);  // after awaiting, still main

  bool in_callback_empty = false;
  aio::get_running_loop().call_soon([&] { in_callback_empty = !aio::current_task(); });
  co_await aio::sleep(0);
  EXPECT_TRUE(in_callback_empty);
}

TEST(Task, CurrentTaskWithoutARunningLoopThrows) {
  EXPECT_THROW(aio::current_task(), std::runtime_error);
  EXPECT_THROW(aio::all_tasks(), std::runtime_error);
  EXPECT_THROW(aio::get_running_loop(), std::runtime_error);
  EXPECT_THROW((void)aio::create_task(value_after(0, 1)), std::runtime_error);
}

AIO_TEST(Task, AllTasksListsTheUnfinished) {
  auto a = aio::create_task(value_after(1, 1));
  auto b = aio::create_task(value_after(2, 2));
  auto has = [](const std::vector<aio::TaskHandle<>>& all, const aio::TaskHandle<>& t) {
    for (auto& x : all)
      if (x == t) return true;
    return false;
  };
  auto all = aio::all_tasks();
  EXPECT_EQ(all.size(), 3u);
  EXPECT_TRUE(has(all, aio::current_task()));
  EXPECT_TRUE(has(all, a));
  EXPECT_TRUE(has(all, b));
  co_await a;
  all = aio::all_tasks();
  EXPECT_EQ(all.size(), 2u);
  EXPECT_FALSE(has(all, a));
  co_await b;
  EXPECT_EQ(aio::all_tasks().size(), 1u);
}

// ---- "Task exception was never retrieved" ----------------------------------------

AIO_TEST(Task, NeverRetrievedIsReportedWhenTheLastHandleGoes) {
  std::vector<aio_test::HandlerCall> calls;
  aio_test::capture_exceptions(aio::get_running_loop(), calls);
  {
    auto t = aio::create_task(fail_after(1, "lost"), "lost");
    co_await aio::sleep(2);
    EXPECT_TRUE(t.done());
    EXPECT_TRUE(calls.empty());  // a handle still holds it
  }
  CO_ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].message, "Task exception was never retrieved");
  EXPECT_EQ(calls[0].exception, "std::runtime_error('lost')");
  EXPECT_EQ(calls[0].task, "<Task finished name='lost' exception=std::runtime_error('lost')>");

  // no handle left while it runs: reported when it finishes
  aio::create_task(fail_after(1, "dropped"), "dropped");
  co_await aio::sleep(2);
  CO_ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1].message, "Task exception was never retrieved");
  EXPECT_EQ(calls[1].exception, "std::runtime_error('dropped')");
}

AIO_TEST(Task, RetrievedExceptionsAreNotReported) {
  std::vector<aio_test::HandlerCall> calls;
  aio_test::capture_exceptions(aio::get_running_loop(), calls);
  {
    auto t = aio::create_task(fail_after(1, "awaited"));
    EXPECT_THROW(co_await t, std::runtime_error);
  }
  {
    auto t = aio::create_task(fail_after(1, "exception()"));
    co_await aio::sleep(2);
    EXPECT_TRUE(t.exception());
  }
  {
    auto t = aio::create_task(fail_after(1, "result()"));
    co_await aio::sleep(2);
    EXPECT_THROW(t.result(), std::runtime_error);
  }
  {
    auto t = aio::create_task(forever());  // cancelled tasks are never reported
    co_await aio::sleep(0);
    t.cancel();
    co_await aio::sleep(0);
    EXPECT_TRUE(t.cancelled());
  }
  co_await aio::sleep(0);
  EXPECT_TRUE(calls.empty());
}

TEST(Task, NeverRetrievedGoesToTheLogByDefault) {
  aio_test::LogCapture log;
  aio::testing::run([]() -> aio::Task<> {
    aio::create_task(fail_after(1, "to the log"), "logged");
    co_await aio::sleep(2);
  }());
  ASSERT_EQ(log.lines.size(), 1u);
  EXPECT_EQ(log.levels[0], aio::LogLevel::error);
  EXPECT_EQ(log.lines[0],
            "Task exception was never retrieved\n"
            "future: <Task finished name='logged' exception=std::runtime_error('to the log')>");
}

// ---- done callbacks -----------------------------------------------------------

AIO_TEST(Task, DoneCallbacksRunInOrderThroughTheLoop) {
  Lines out;
  auto t = aio::create_task(value_after(1, 5));
  t.add_done_callback([&](aio::TaskHandle<int>& h) { out.push_back("first " + std::to_string(h.result())); });
  auto n = 2;
  t.add_done_callback([&out, n](aio::TaskHandle<int>& h) {  // a bound argument
    out.push_back("second " + std::to_string(h.result()) + ", " + std::to_string(n));
  });
  auto id = t.add_done_callback([&](aio::TaskHandle<int>&) { out.push_back("removed"); });
  t.add_done_callback([&](aio::TaskHandle<int>&) { out.push_back("third"); });
  EXPECT_EQ(t.remove_done_callback(id), 1u);
  EXPECT_EQ(t.remove_done_callback(id), 0u);
  co_await t;  // registered after the callbacks: wakes after them
  out.push_back("awaited");
  EXPECT_EQ(out, (Lines{"first 5", "second 5, 2", "third", "awaited"}));
}

AIO_TEST(Task, SameCallbackTwiceHasTwoIds) {
  int calls = 0;
  auto t = aio::create_task(value_after(1, 5));
  auto cb = [&](aio::TaskHandle<int>&) { ++calls; };
  auto id1 = t.add_done_callback(cb);
  auto id2 = t.add_done_callback(cb);
  EXPECT_NE(id1, id2);
  EXPECT_EQ(t.remove_done_callback(id1), 1u);
  co_await t;
  co_await aio::sleep(0);
  EXPECT_EQ(calls, 1);
}

AIO_TEST(Task, CallbackAddedAfterDoneStillRunsSoon) {
  auto t = aio::create_task(value_after(0, 9));
  co_await t;
  int seen = 0;
  t.add_done_callback([&](aio::TaskHandle<int>& h) { seen = h.result(); });
  EXPECT_EQ(seen, 0);  // not synchronously
  co_await aio::sleep(0);
  EXPECT_EQ(seen, 9);
}

AIO_TEST(Task, ExceptionInADoneCallbackGoesToTheHandlerAndTheLoopGoesOn) {
  std::vector<aio_test::HandlerCall> calls;
  aio_test::capture_exceptions(aio::get_running_loop(), calls);
  Lines out;
  auto t = aio::create_task(value_after(1, 1), "cb");
  t.add_done_callback([](aio::TaskHandle<int>&) { throw std::logic_error("callback failed"); });
  t.add_done_callback([&](aio::TaskHandle<int>&) { out.push_back("next callback"); });
  co_await t;
  co_await aio::sleep(0);
  EXPECT_EQ(out, Lines{"next callback"});
  CO_ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].message, "Exception in callback");
  EXPECT_EQ(calls[0].exception, "std::logic_error('callback failed')");
  EXPECT_EQ(calls[0].task, "<Task finished name='cb' result=1>");
  EXPECT_EQ(co_await value_after(1, 2), 2);  // the loop still runs
}

AIO_TEST(Task, CallbackOnACancelledTask) {
  bool cancelled = false;
  auto t = aio::create_task(forever());
  t.add_done_callback([&](aio::TaskHandle<>& h) { cancelled = h.cancelled(); });
  co_await aio::sleep(0);
  t.cancel();
  EXPECT_THROW(co_await t, aio::CancelledError);
  co_await aio::sleep(0);
  EXPECT_TRUE(cancelled);
}

AIO_TEST(Task, CallbackKeepsTheTaskAliveAfterTheHandleGoes) {
  int seen = 0;
  {
    auto t = aio::create_task(value_after(1, 3));
    t.add_done_callback([&](aio::TaskHandle<int>& h) { seen = h.result(); });
  }
  co_await aio::sleep(2);
  EXPECT_EQ(seen, 3);
}
