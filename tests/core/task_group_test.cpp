// TaskGroup: join, first failure cancels the rest, ExceptionGroup, body errors through
// with(), create_task after the end, the destructor, nesting, outside cancellation.
#include <stdexcept>
#include <string>
#include <vector>

#include "helpers.hpp"

using aio_test::value_after;
using aio_test::fail_after;
using Lines = std::vector<std::string>;

namespace {

aio::Task<int> cancellable(Lines* out, std::string name, double delay = 100) {
  try {
    co_await aio::sleep(delay);
  } catch (const aio::CancelledError&) {
    out->push_back(name + " cancelled");
    throw;
  }
  out->push_back(name + " done");
  co_return 0;
}

std::vector<std::string> describe_all(const aio::ExceptionGroup& g) {
  std::vector<std::string> out;
  for (auto& e : g.exceptions()) out.push_back(aio::describe(e));
  return out;
}

}  // namespace

AIO_TEST(TaskGroup, JoinWaitsForEveryChild) {
  Lines out;
  aio::TaskGroup tg;
  auto a = tg.create_task(value_after(3, 1, &out));
  auto b = tg.create_task(value_after(1, 2, &out), "named");
  auto c = tg.create_task(value_after(2, 3, &out));
  EXPECT_EQ(b.get_name(), "named");
  co_await tg.join();
  EXPECT_EQ(aio::get_running_loop().time(), 3.0);
  EXPECT_EQ(a.result() + b.result() + c.result(), 6);
  EXPECT_EQ(out, (Lines{"done 2", "done 3", "done 1"}));
}

AIO_TEST(TaskGroup, EmptyGroupJoinsAtOnce) {
  aio::TaskGroup tg;
  co_await tg.join();
  EXPECT_EQ(aio::get_running_loop().time(), 0.0);
}

AIO_TEST(TaskGroup, FirstFailureCancelsSiblingsAndRaisesExceptionGroup) {
  Lines out;
  aio::TaskGroup tg;
  auto sibling = tg.create_task(cancellable(&out, "sibling"));
  auto failing = tg.create_task(fail_after(1, "boom"));
  try {
    co_await tg.join();
    ADD_FAILURE() << "no ExceptionGroup";
  } catch (const aio::ExceptionGroup& g) {
    EXPECT_EQ(describe_all(g), std::vector<std::string>{"std::runtime_error('boom')"});
    EXPECT_STREQ(g.what(), "unhandled errors in a TaskGroup (1 sub-exception)");
  }
  EXPECT_EQ(aio::get_running_loop().time(), 1.0);
  EXPECT_TRUE(sibling.cancelled());
  EXPECT_FALSE(failing.cancelled());
  EXPECT_EQ(out, Lines{"sibling cancelled"});
  EXPECT_EQ(aio::current_task().cancelling(), 0);  // the group's own cancel of the parent was undone
  co_await aio::sleep(1);                          // and the parent goes on
}

AIO_TEST(TaskGroup, SeveralFailuresAreAllCollected) {
  aio::TaskGroup tg;
  tg.create_task(fail_after(1, "first"));
  tg.create_task(fail_after(1, "second"));
  try {
    co_await tg.join();
    ADD_FAILURE();
  } catch (const aio::ExceptionGroup& g) {
    EXPECT_EQ(describe_all(g),
              (std::vector<std::string>{"std::runtime_error('first')", "std::runtime_error('second')"}));
    EXPECT_STREQ(g.what(), "unhandled errors in a TaskGroup (2 sub-exceptions)");
  }
}

AIO_TEST(TaskGroup, ErrorsRaisedInTheSameIterationAreAllCollected) {
  // asyncio handles a child's end in a done callback, one loop step later: two children
  // failing in their first step both report, neither is cancelled by the other.
  Lines out;
  aio::TaskGroup tg;
  auto ok = tg.create_task([]() -> aio::Task<std::string> { co_return "Hello world"; }());
  tg.create_task([]() -> aio::Task<> {
    throw std::invalid_argument("value error");
    co_return;
  }());
  tg.create_task([]() -> aio::Task<> {
    throw std::range_error("type error");
    co_return;
  }());
  try {
    co_await tg.join();
    ADD_FAILURE();
  } catch (const aio::ExceptionGroup& g) {
    EXPECT_EQ(describe_all(g),
              (std::vector<std::string>{"std::invalid_argument('value error')", "std::range_error('type error')"}));
  }
  EXPECT_EQ(ok.result(), "Hello world");
}

AIO_TEST(TaskGroup, FailureWhileCleaningUpIsCollectedToo) {
  aio::TaskGroup tg;
  tg.create_task([]() -> aio::Task<> {
    try {
      co_await aio::sleep(100);
    } catch (const aio::CancelledError&) {
      throw std::logic_error("cleanup failed");
    }
  }());
  tg.create_task(fail_after(1, "first"));
  try {
    co_await tg.join();
  } catch (const aio::ExceptionGroup& g) {
    EXPECT_EQ(describe_all(g),
              (std::vector<std::string>{"std::runtime_error('first')", "std::logic_error('cleanup failed')"}));
  }
}

AIO_TEST(TaskGroup, ACancelledChildDoesNotFailTheGroup) {
  Lines out;
  aio::TaskGroup tg;
  auto a = tg.create_task(cancellable(&out, "a"));
  auto b = tg.create_task(cancellable(&out, "b", 2));
  co_await aio::sleep(1);
  a.cancel();
  co_await tg.join();
  EXPECT_EQ(out, (Lines{"a cancelled", "b done"}));
}

AIO_TEST(TaskGroup, WithReturnsTheBodysValue) {
  Lines out;
  aio::TaskGroup tg;
  int v = co_await aio::with(tg, [&](aio::TaskGroup& g) -> aio::Task<int> {
    g.create_task(value_after(2, 1, &out));
    g.create_task(value_after(1, 2, &out));
    co_return 7;
  });
  EXPECT_EQ(v, 7);
  EXPECT_EQ(out, (Lines{"done 2", "done 1"}));  // the children were awaited on the way out
}

AIO_TEST(TaskGroup, BodyExceptionCancelsChildrenAndIsIncluded) {
  Lines out;
  aio::TaskGroup tg;
  try {
    co_await aio::with(tg, [&](aio::TaskGroup& g) -> aio::Task<> {
      g.create_task(cancellable(&out, "child"));
      co_await aio::sleep(1);
      throw std::logic_error("body failed");
    });
    ADD_FAILURE();
  } catch (const aio::ExceptionGroup& g) {
    EXPECT_EQ(describe_all(g), std::vector<std::string>{"std::logic_error('body failed')"});
  }
  EXPECT_EQ(out, Lines{"child cancelled"});
}

AIO_TEST(TaskGroup, ChildFailureInterruptsTheBody) {
  Lines out;
  aio::TaskGroup tg;
  try {
    co_await aio::with(tg, [&](aio::TaskGroup& g) -> aio::Task<> {
      g.create_task(fail_after(1, "child failed"));
      try {
        co_await aio::sleep(100);
      } catch (const aio::CancelledError&) {
        out.push_back("body cancelled");
        throw;
      }
    });
    ADD_FAILURE();
  } catch (const aio::ExceptionGroup& g) {
    EXPECT_EQ(describe_all(g), std::vector<std::string>{"std::runtime_error('child failed')"});
  } catch (const aio::CancelledError&) {
    ADD_FAILURE() << "CancelledError leaked out of the group";
  }
  EXPECT_EQ(out, Lines{"body cancelled"});
  EXPECT_EQ(aio::get_running_loop().time(), 1.0);
  EXPECT_EQ(aio::current_task().cancelling(), 0);
}

AIO_TEST(TaskGroup, CreateTaskAfterTheEndIsAnError) {
  aio::TaskGroup tg;
  tg.create_task(value_after(1, 1));
  co_await tg.join();
  EXPECT_THROW((void)tg.create_task(value_after(1, 1)), std::runtime_error);
}

AIO_TEST(TaskGroup, CreateTaskWhileShuttingDownIsAnError) {
  aio::TaskGroup tg;
  bool refused = false;
  tg.create_task(fail_after(1, "x"));
  tg.create_task([](aio::TaskGroup* g, bool* r) -> aio::Task<> {
    try {
      co_await aio::sleep(100);
    } catch (const aio::CancelledError&) {
      try {
        (void)g->create_task(value_after(1, 1));
      } catch (const std::runtime_error&) {
        *r = true;
      }
      throw;
    }
  }(&tg, &refused));
  EXPECT_THROW(co_await tg.join(), aio::ExceptionGroup);
  EXPECT_TRUE(refused);
}

AIO_TEST(TaskGroup, DestructorWithoutJoinCancelsTheChildren) {
  Lines out;
  aio::TaskHandle<int> child;
  {
    aio::TaskGroup tg;
    child = tg.create_task(cancellable(&out, "orphan"));
    co_await aio::sleep(1);
  }
  co_await aio::sleep(0);
  EXPECT_TRUE(child.cancelled());
  EXPECT_EQ(out, Lines{"orphan cancelled"});
}

AIO_TEST(TaskGroup, DestroyedRightAfterAChildFinished) {
  // The child's end is still queued when the group goes: nothing dangles (ASan).
  aio::TaskHandle<int> child;
  {
    aio::TaskGroup tg;
    child = tg.create_task(value_after(0, 1));
    co_await aio::sleep(0);
    co_await aio::sleep(0);
  }
  co_await aio::sleep(0);
  EXPECT_EQ(child.result(), 1);
}

AIO_TEST(TaskGroup, ChildrenAreCancelledInCreationOrder) {
  Lines out;
  {
    aio::TaskGroup tg;
    tg.create_task(cancellable(&out, "first"));
    tg.create_task(cancellable(&out, "second"));
    tg.create_task(cancellable(&out, "third"));
    co_await aio::sleep(0);
  }
  co_await aio::sleep(0);
  EXPECT_EQ(out, (Lines{"first cancelled", "second cancelled", "third cancelled"}));
}

AIO_TEST(TaskGroup, NestedGroups) {
  Lines out;
  aio::TaskGroup outer;
  try {
    co_await aio::with(outer, [&](aio::TaskGroup& o) -> aio::Task<> {
      o.create_task(cancellable(&out, "outer child"));
      aio::TaskGroup inner;
      co_await aio::with(inner, [&](aio::TaskGroup& i) -> aio::Task<> {
        i.create_task(cancellable(&out, "inner child"));
        i.create_task(fail_after(1, "deep"));
        co_await aio::sleep(100);
      });
      out.push_back("not reached");
    });
    ADD_FAILURE();
  } catch (const aio::ExceptionGroup& g) {
    CO_ASSERT_EQ(g.exceptions().size(), 1u);
    try {
      std::rethrow_exception(g.exceptions()[0]);
    } catch (const aio::ExceptionGroup& nested) {
      EXPECT_EQ(describe_all(nested), std::vector<std::string>{"std::runtime_error('deep')"});
    } catch (...) {
      ADD_FAILURE() << "expected a nested ExceptionGroup";
    }
  }
  EXPECT_EQ(out, (Lines{"inner child cancelled", "outer child cancelled"}));
  EXPECT_EQ(aio::current_task().cancelling(), 0);
}

AIO_TEST(TaskGroup, NestedInnerFailureHandledInside) {
  Lines out;
  aio::TaskGroup outer;
  co_await aio::with(outer, [&](aio::TaskGroup& o) -> aio::Task<> {
    o.create_task(cancellable(&out, "outer child", 3));
    aio::TaskGroup inner;
    try {
      co_await aio::with(inner, [&](aio::TaskGroup& i) -> aio::Task<> {
        i.create_task(fail_after(1, "deep"));
        co_await aio::sleep(100);
      });
    } catch (const aio::ExceptionGroup&) {
      out.push_back("inner group failed");
    }
  });
  EXPECT_EQ(out, (Lines{"inner group failed", "outer child done"}));  // the outer group is unaffected
}

AIO_TEST(TaskGroup, OutsideCancellationCancelsTheChildrenAndPropagates) {
  Lines out;
  auto parent = aio::create_task([](Lines* o) -> aio::Task<> {
    aio::TaskGroup tg;
    tg.create_task(cancellable(o, "c1"));
    tg.create_task(cancellable(o, "c2"));
    co_await tg.join();
  }(&out));
  co_await aio::sleep(1);
  parent.cancel();
  EXPECT_THROW(co_await parent, aio::CancelledError);
  EXPECT_TRUE(parent.cancelled());
  EXPECT_EQ(out, (Lines{"c1 cancelled", "c2 cancelled"}));
}

AIO_TEST(TaskGroup, OutsideCancellationOfTheBody) {
  Lines out;
  auto parent = aio::create_task([](Lines* o) -> aio::Task<> {
    aio::TaskGroup tg;
    co_await aio::with(tg, [o](aio::TaskGroup& g) -> aio::Task<> {
      g.create_task(cancellable(o, "child"));
      co_await aio::sleep(100);
    });
  }(&out));
  co_await aio::sleep(1);
  parent.cancel();
  EXPECT_THROW(co_await parent, aio::CancelledError);
  EXPECT_EQ(out, Lines{"child cancelled"});
}

AIO_TEST(TaskGroup, ErrorsWinOverOutsideCancellation) {
  // asyncio: when children failed, the ExceptionGroup is raised even if the parent was
  // also cancelled from outside.
  Lines out;
  auto parent = aio::create_task([](Lines* o) -> aio::Task<> {
    aio::TaskGroup tg;
    tg.create_task([]() -> aio::Task<> {
      try {
        co_await aio::sleep(100);
      } catch (const aio::CancelledError&) {
        throw std::runtime_error("failed on cancel");
      }
    }());
    try {
      co_await tg.join();
    } catch (const aio::ExceptionGroup& g) {
      o->push_back("ExceptionGroup " + describe_all(g)[0]);
      throw;
    }
  }(&out));
  co_await aio::sleep(1);
  parent.cancel();
  EXPECT_THROW(co_await parent, aio::ExceptionGroup);
  EXPECT_EQ(out, Lines{"ExceptionGroup std::runtime_error('failed on cancel')"});
}

TEST(TaskGroup, OutsideATaskIsAnError) { EXPECT_THROW(aio::TaskGroup(), std::runtime_error); }

namespace {

aio::Task<> spawner(aio::TaskGroup* g, Lines* out) {
  co_await aio::sleep(1);
  g->create_task(value_after(1, 1, out));
  g->create_task(value_after(2, 2, out));
}

aio::Task<> hydra(aio::TaskGroup* g, int* heads) {
  if (++*heads > 10000) co_return;  // (never reached: hercules ends it long before)
  co_await aio::sleep(0.01);
  g->create_task(hydra(g, heads));
  g->create_task(hydra(g, heads));
}

aio::Task<> hercules(const int* heads) {
  while (*heads < 10) co_await aio::sleep(0.015);
  throw std::domain_error("division by zero");
}

}  // namespace

AIO_TEST(TaskGroup, ChildrenAddSiblingsWhileTheGroupJoins) {
  Lines out;
  aio::TaskGroup tg;
  tg.create_task(spawner(&tg, &out));
  co_await tg.join();
  EXPECT_EQ(out, (Lines{"done 1", "done 2"}));
  EXPECT_EQ(aio::get_running_loop().time(), 3.0);
}

AIO_TEST(TaskGroup, Hydra) {
  int heads = 0;
  aio::TaskGroup tg;
  tg.create_task(hydra(&tg, &heads));
  tg.create_task(hercules(&heads));
  try {
    co_await tg.join();
    ADD_FAILURE();
  } catch (const aio::ExceptionGroup& g) {
    EXPECT_EQ(describe_all(g), std::vector<std::string>{"std::domain_error('division by zero')"});
  }
  EXPECT_GE(heads, 10);
}

AIO_TEST(TaskGroup, BodyRaisingAnotherErrorWhenCancelledFromOutside) {
  auto r = aio::create_task([]() -> aio::Task<> {
    aio::TaskGroup tg;
    co_await aio::with(tg, [](aio::TaskGroup&) -> aio::Task<> {
      try {
        co_await aio::sleep(10);
      } catch (const aio::CancelledError&) {
        throw std::logic_error("MyExc");  // "not a good idea, but supported"
      }
    });
  }());
  co_await aio::sleep(0.1);
  r.cancel();
  try {
    co_await r;
    ADD_FAILURE();
  } catch (const aio::ExceptionGroup& g) {
    EXPECT_EQ(describe_all(g), std::vector<std::string>{"std::logic_error('MyExc')"});
  }
}

AIO_TEST(TaskGroup, ChildErrorAndBodyErrorRaisedOnCancel) {
  aio::TaskGroup tg;
  try {
    co_await aio::with(tg, [](aio::TaskGroup& g) -> aio::Task<> {
      g.create_task(fail_after(0.1, "crash soon"));
      try {
        co_await aio::sleep(10);
      } catch (const aio::CancelledError&) {
      }
      throw std::logic_error("MyExc");  // Python's `finally: raise MyExc`
    });
    ADD_FAILURE();
  } catch (const aio::ExceptionGroup& g) {
    EXPECT_EQ(describe_all(g), (std::vector<std::string>{"std::runtime_error('crash soon')", "std::logic_error('MyExc')"}));
  }
  EXPECT_EQ(aio::current_task().cancelling(), 0);
}

// asyncio's TaskGroup raises KeyboardInterrupt (and SystemExit) as itself, not grouped;
// the errors it would have grouped go to the exception handler instead.
constexpr const char* kNotPropagated =
    "TaskGroup task exception was not propagated because the TaskGroup body is being closed with a BaseException";

AIO_TEST(TaskGroup, KeyboardInterruptInTheBodyIsRaisedAsItself) {
  std::vector<aio_test::HandlerCall> calls;
  aio_test::capture_exceptions(aio::get_running_loop(), calls);
  aio::TaskGroup tg;
  auto body = [](aio::TaskGroup& g) -> aio::Task<> {
    g.create_task(fail_after(0.1, "crash soon"));
    try {
      co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
    }
    throw aio::KeyboardInterrupt();  // Python's `finally: raise KeyboardInterrupt`
  };
  auto interrupt = co_await aio::testing::error_of<aio::KeyboardInterrupt>(aio::with(tg, body));
  EXPECT_TRUE(interrupt.has_value());
  CO_ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].message, kNotPropagated);
  EXPECT_EQ(calls[0].exception, "std::runtime_error('crash soon')");
}

AIO_TEST(TaskGroup, KeyboardInterruptInAChildIsRaisedAsItself) {
  std::vector<aio_test::HandlerCall> calls;
  aio_test::capture_exceptions(aio::get_running_loop(), calls);
  Lines out;
  aio::TaskGroup tg;
  auto body = [&out](aio::TaskGroup& g) -> aio::Task<> {
    g.create_task(cancellable(&out, "sibling"));
    g.create_task([]() -> aio::Task<> {
      co_await aio::sleep(0.1);
      throw aio::KeyboardInterrupt();
    }());
    try {
      co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
      out.push_back("body cancelled");
    }
    throw std::invalid_argument("type error");  // Python's `finally: raise TypeError`
  };
  auto interrupt = co_await aio::testing::error_of<aio::KeyboardInterrupt>(aio::with(tg, body));
  EXPECT_TRUE(interrupt.has_value());
  EXPECT_EQ(out, (Lines{"sibling cancelled", "body cancelled"}));
  CO_ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].message, kNotPropagated);
  EXPECT_EQ(calls[0].exception, "std::invalid_argument('type error')");
}

AIO_TEST(TaskGroup, FirstKeyboardInterruptWinsAndOtherBaseExceptionsAreGrouped) {
  // Only KeyboardInterrupt is special: another exception outside std::exception (Python's
  // test_taskgroup_21a MyBaseExc) is grouped like any error.
  struct NotAnException {};
  aio::TaskGroup plain;
  plain.create_task([]() -> aio::Task<> {
    throw NotAnException();
    co_return;
  }());
  auto group = co_await aio::testing::error_of<aio::ExceptionGroup>(plain.join());
  CO_ASSERT_TRUE(group && group->exceptions().size() == 1u);
  EXPECT_THROW(std::rethrow_exception(group->exceptions()[0]), NotAnException);
  std::vector<aio_test::HandlerCall> calls;
  aio_test::capture_exceptions(aio::get_running_loop(), calls);
  aio::TaskGroup tg;
  tg.create_task(fail_after(1, "first"));
  for (int i = 0; i < 2; ++i) {
    tg.create_task([]() -> aio::Task<> {
      co_await aio::sleep(1);
      throw aio::KeyboardInterrupt();
    }());
  }
  tg.create_task(fail_after(1, "last"));
  EXPECT_TRUE(co_await aio::testing::error_of<aio::KeyboardInterrupt>(tg.join()));
  std::vector<std::string> reported;  // all but the one raised
  for (auto& c : calls) reported.push_back(c.exception);
  EXPECT_EQ(reported, (std::vector<std::string>{"std::runtime_error('first')", "aio::KeyboardInterrupt()",
                                                "std::runtime_error('last')"}));
}

AIO_TEST(TaskGroup, OutsideCancelMessageReachesTheAwaiter) {
  auto r = aio::create_task([]() -> aio::Task<> {
    aio::TaskGroup tg;
    for (int i = 0; i < 5; ++i) tg.create_task(value_after(5, i));
    co_await tg.join();
  }());
  co_await aio::sleep(0.1);
  r.cancel("test");
  try {
    co_await r;
    ADD_FAILURE();
  } catch (const aio::CancelledError& e) {
    EXPECT_STREQ(e.what(), "test");
  }
}
