// aio::AsyncGenerator (next, athrow, aclose, cancellation inside it) and aio::with() over
// both forms of async context manager: an AsyncGenerator that yields once
// (@asynccontextmanager) and a class with aenter()/aexit().
#include <aio/sync.hpp>

#include <string>
#include <vector>

#include "sync_helpers.hpp"

using sync_test::throws;
using sync_test::tick;
using Lines = std::vector<std::string>;

namespace {

aio::AsyncGenerator<int> ticker(Lines& log, int n, double delay) {
  for (int i = 0; i < n; ++i) {
    co_await aio::sleep(delay);
    log.push_back("yield " + std::to_string(i));
    co_yield i;
  }
  log.push_back("done");
}

}  // namespace

AIO_TEST(AsyncGenerator, AwaitAndYieldInOneBody) {
  Lines log;
  auto gen = ticker(log, 3, 0.5);
  EXPECT_TRUE(log.empty());  // lazy
  std::vector<int> got;
  while (auto v = co_await gen.next()) got.push_back(*v);
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(log, (Lines{"yield 0", "yield 1", "yield 2", "done"}));
  EXPECT_DOUBLE_EQ(aio::get_running_loop().time(), 1.5);
  EXPECT_TRUE(gen.done());
  EXPECT_EQ(co_await gen.next(), std::nullopt);  // stays finished
}

AIO_TEST(AsyncGenerator, ValuesAreCopiedOrMoved) {
  auto gen = []() -> aio::AsyncGenerator<std::string> {
    std::string kept = "kept";
    co_yield kept;  // an lvalue: copied out, the body keeps its own
    EXPECT_EQ(kept, "kept");
    co_yield std::string("moved");
    co_yield "converted";
  }();
  Lines got;
  while (auto v = co_await gen.next()) got.push_back(*v);
  EXPECT_EQ(got, (Lines{"kept", "moved", "converted"}));
}

AIO_TEST(AsyncGenerator, ExceptionFromTheBody) {
  auto gen = []() -> aio::AsyncGenerator<int> {
    co_yield 1;
    co_await aio::sleep(0.1);
    throw std::domain_error("bad");
  }();
  EXPECT_EQ(co_await gen.next(), 1);
  EXPECT_TRUE(co_await throws<std::domain_error>([&] { return gen.next(); }));
  EXPECT_TRUE(gen.done());
  EXPECT_EQ(co_await gen.next(), std::nullopt);
}

AIO_TEST(AsyncGenerator, TwoGeneratorsInterleaved) {
  Lines log_a, log_b;
  auto a = ticker(log_a, 2, 1);
  auto b = ticker(log_b, 2, 1);
  EXPECT_EQ(co_await a.next(), 0);
  EXPECT_EQ(co_await b.next(), 0);
  EXPECT_EQ(co_await a.next(), 1);
  EXPECT_EQ(co_await b.next(), 1);
  EXPECT_EQ(co_await a.next(), std::nullopt);
  EXPECT_EQ(co_await b.next(), std::nullopt);
}

AIO_TEST(AsyncGenerator, CancelledWhileSuspendedInAnAwaitInside) {
  Lines log;
  aio::Event reached;
  auto consume = [&]() -> aio::Task<int> {
    auto gen = [](Lines& log, aio::Event& reached) -> aio::AsyncGenerator<int> {
      co_yield 1;
      struct Cleanup {
        Lines& log;
        ~Cleanup() { log.push_back("frame cleanup"); }
      } cleanup{log};
      try {
        reached.set();
        co_await aio::sleep(10);  // cancelled here
        log.push_back("not reached");
      } catch (const aio::CancelledError&) {
        log.push_back("CancelledError inside the generator");
        throw;
      }
      co_yield 2;
    }(log, reached);
    int sum = 0;
    while (auto v = co_await gen.next()) sum += *v;
    co_return sum;
  };
  auto t = aio::create_task(consume());
  co_await reached.wait();
  co_await tick();
  t.cancel();
  EXPECT_TRUE(co_await throws<aio::CancelledError>([&] { return t; }));
  EXPECT_TRUE(t.cancelled());
  EXPECT_EQ(log, (Lines{"CancelledError inside the generator", "frame cleanup"}));
  EXPECT_DOUBLE_EQ(aio::get_running_loop().time(), 0.0);  // the sleep did not run out
}

AIO_TEST(AsyncGenerator, CancellationCanBeCaughtInside) {
  aio::Event reached;
  auto gen = [](aio::Event& reached) -> aio::AsyncGenerator<std::string> {
    bool cancelled = false;
    try {
      reached.set();
      co_await aio::sleep(10);
    } catch (const aio::CancelledError&) {
      cancelled = true;  // C++ cannot co_yield inside a handler: after it
    }
    if (cancelled) co_yield std::string("caught");
  }(reached);
  auto consume = [&]() -> aio::Task<std::string> { co_return *co_await gen.next(); };
  auto t = aio::create_task(consume());
  co_await reached.wait();
  t.cancel();
  EXPECT_EQ(co_await t, "caught");
}

AIO_TEST(AsyncGenerator, AcloseRunsAsyncCleanup) {
  Lines log;
  auto gen = [](Lines& log) -> aio::AsyncGenerator<int> {
    std::exception_ptr error;
    try {
      for (int i = 0;; ++i) co_yield i;
    } catch (const aio::GeneratorExit&) {
      log.push_back("GeneratorExit");
      error = std::current_exception();
    }
    co_await aio::sleep(0.25);  // async cleanup: a C++ handler cannot co_await, so after it
    log.push_back("cleaned up");
    std::rethrow_exception(error);
  }(log);
  EXPECT_EQ(co_await gen.next(), 0);
  EXPECT_EQ(co_await gen.next(), 1);
  co_await gen.aclose();
  EXPECT_EQ(log, (Lines{"GeneratorExit", "cleaned up"}));
  EXPECT_DOUBLE_EQ(aio::get_running_loop().time(), 0.25);
  EXPECT_TRUE(gen.done());
  co_await gen.aclose();  // again: nothing
  EXPECT_EQ(co_await gen.next(), std::nullopt);
}

AIO_TEST(AsyncGenerator, AcloseUnstartedRunsNothing) {
  int runs = 0;
  auto gen = [](int& runs) -> aio::AsyncGenerator<int> {
    ++runs;
    co_yield 1;
  }(runs);
  co_await gen.aclose();
  EXPECT_EQ(runs, 0);
  EXPECT_TRUE(gen.done());
  EXPECT_EQ(co_await gen.next(), std::nullopt);
}

AIO_TEST(AsyncGenerator, AcloseWhenBodyYieldsAgain) {
  auto gen = []() -> aio::AsyncGenerator<int> {
    for (;;) {
      try {
        co_yield 1;
      } catch (const aio::GeneratorExit&) {
      }
    }
  }();
  co_await gen.next();
  EXPECT_TRUE(co_await throws<std::runtime_error>([&] { return gen.aclose(); }));
}

AIO_TEST(AsyncGenerator, Athrow) {
  auto gen = []() -> aio::AsyncGenerator<std::string> {
    std::string what;
    try {
      co_yield std::string("first");
    } catch (const std::domain_error& e) {
      what = e.what();
    }
    co_yield "caught " + what;
  }();
  EXPECT_EQ(co_await gen.next(), "first");
  EXPECT_EQ(co_await gen.athrow(std::make_exception_ptr(std::domain_error("x"))), "caught x");
  EXPECT_EQ(co_await gen.next(), std::nullopt);
  auto unstarted = []() -> aio::AsyncGenerator<int> { co_yield 1; }();
  EXPECT_TRUE(co_await throws<std::domain_error>(
      [&] { return unstarted.athrow(std::make_exception_ptr(std::domain_error("y"))); }));
  EXPECT_TRUE(unstarted.done());
}

AIO_TEST(AsyncGenerator, NextWhileRunningIsAnError) {
  auto gen = []() -> aio::AsyncGenerator<int> {
    co_await aio::sleep(1);
    co_yield 1;
  }();
  auto first = [&]() -> aio::Task<std::optional<int>> { co_return co_await gen.next(); };
  auto t = aio::create_task(first());
  co_await tick();  // t is inside the generator's sleep
  EXPECT_TRUE(co_await throws<std::runtime_error>([&] { return gen.next(); }));
  EXPECT_EQ(co_await t, 1);
}

// ---- aio::with() over @asynccontextmanager ---------------------------------------------

namespace {

/// Python:
///   @asynccontextmanager
///   async def manager():
///       log("enter"); await sleep(1)
///       try: yield "resource"
///       except ... as e: log("exit saw", e); raise
///       finally: await sleep(1); log("exit")
aio::AsyncGenerator<std::string> manager(Lines& log) {
  log.push_back("enter");
  co_await aio::sleep(1);
  std::exception_ptr error;
  try {
    co_yield std::string("resource");
  } catch (const aio::CancelledError&) {
    log.push_back("exit saw CancelledError");
    error = std::current_exception();
  } catch (const std::exception& e) {
    log.push_back(std::string("exit saw ") + e.what());
    error = std::current_exception();
  }
  co_await aio::sleep(1);
  log.push_back("exit");
  if (error) std::rethrow_exception(error);
}

}  // namespace

AIO_TEST(WithAsyncGenerator, ExitRunsOnSuccess) {
  Lines log;
  int r = co_await aio::with(manager(log), [&](std::string& resource) -> aio::Task<int> {
    log.push_back("inside with " + resource);
    co_return 42;
  });
  EXPECT_EQ(r, 42);
  EXPECT_EQ(log, (Lines{"enter", "inside with resource", "exit"}));
  EXPECT_DOUBLE_EQ(aio::get_running_loop().time(), 2.0);
}

AIO_TEST(WithAsyncGenerator, ExitSeesTheError) {
  Lines log;
  auto body = [&](std::string&) -> aio::Task<> {
    co_await aio::sleep(0.5);
    throw std::domain_error("body failed");
  };
  EXPECT_TRUE(co_await throws<std::domain_error>([&] { return aio::with(manager(log), body); }));
  EXPECT_EQ(log, (Lines{"enter", "exit saw body failed", "exit"}));
}

AIO_TEST(WithAsyncGenerator, ExitSeesTheCancellation) {
  Lines log;
  auto user = [&]() -> aio::Task<> {
    co_await aio::with(manager(log), [&](std::string&) -> aio::Task<> {
      log.push_back("body waits");
      co_await aio::sleep(10);
      log.push_back("not reached");
    });
  };
  auto t = aio::create_task(user());
  co_await aio::sleep(2);
  t.cancel();
  EXPECT_TRUE(co_await throws<aio::CancelledError>([&] { return t; }));
  EXPECT_TRUE(t.cancelled());
  EXPECT_EQ(log, (Lines{"enter", "body waits", "exit saw CancelledError", "exit"}));
  EXPECT_DOUBLE_EQ(aio::get_running_loop().time(), 3.0);  // the exit's own sleep ran
}

AIO_TEST(WithAsyncGenerator, SwallowedErrorIsSuppressed) {
  auto suppress = []() -> aio::AsyncGenerator<int> {
    try {
      co_yield 1;
    } catch (const std::exception&) {
    }
  };
  bool after = false;
  co_await aio::with(suppress(), [&](int&) -> aio::Task<> { throw std::domain_error("x"); });
  after = true;  // as Python: the context manager swallowed it
  EXPECT_TRUE(after);
  // a body with a value has nothing to return: the error comes through
  EXPECT_TRUE(co_await throws<std::domain_error>([&] {
    return aio::with(suppress(), [&](int&) -> aio::Task<int> { throw std::domain_error("y"); });
  }));
}

AIO_TEST(WithAsyncGenerator, ReplacedError) {
  auto replace = []() -> aio::AsyncGenerator<int> {
    try {
      co_yield 1;
    } catch (const std::domain_error&) {
      throw std::out_of_range("replaced");
    }
  };
  EXPECT_TRUE(co_await throws<std::out_of_range>([&] {
    return aio::with(replace(), [&](int&) -> aio::Task<> { throw std::domain_error("x"); });
  }));
}

AIO_TEST(WithAsyncGenerator, MisbehavingGenerators) {
  auto none = []() -> aio::AsyncGenerator<int> { co_return; };
  auto twice = []() -> aio::AsyncGenerator<int> {
    co_yield 1;
    co_yield 2;
  };
  auto body = [](int&) -> aio::Task<> { co_return; };
  EXPECT_TRUE(co_await throws<std::runtime_error>([&] { return aio::with(none(), body); }));
  EXPECT_TRUE(co_await throws<std::runtime_error>([&] { return aio::with(twice(), body); }));
}

// ---- aio::with() over a class with aenter()/aexit() -------------------------------------

namespace {

struct Connection {
  Lines& log;
  std::exception_ptr seen;
  aio::Task<Connection&> aenter() {
    co_await aio::sleep(1);
    log.push_back("aenter");
    co_return *this;
  }
  aio::Task<> aexit(std::exception_ptr error) {
    seen = error;
    co_await aio::sleep(1);
    log.push_back(error ? "aexit with " + aio::describe(error) : "aexit");
  }
  aio::Task<int> do_something() {
    co_await aio::sleep(0.5);
    co_return 666;
  }
};

}  // namespace

AIO_TEST(WithClass, ExitRunsOnSuccess) {
  Lines log;
  Connection conn{log, nullptr};
  int r = co_await aio::with(conn, [&](Connection& c) -> aio::Task<int> { co_return co_await c.do_something(); });
  EXPECT_EQ(r, 666);
  EXPECT_EQ(log, (Lines{"aenter", "aexit"}));
  EXPECT_EQ(conn.seen, nullptr);
}

AIO_TEST(WithClass, ExitSeesTheError) {
  Lines log;
  Connection conn{log, nullptr};
  EXPECT_TRUE(co_await throws<std::domain_error>([&] {
    return aio::with(conn, [&](Connection&) -> aio::Task<> { throw std::domain_error("oops"); });
  }));
  EXPECT_EQ(log, (Lines{"aenter", "aexit with std::domain_error('oops')"}));
  EXPECT_NE(conn.seen, nullptr);
}

AIO_TEST(WithClass, ExitSeesTheCancellation) {
  Lines log;
  Connection conn{log, nullptr};
  auto user = [&]() -> aio::Task<> {
    co_await aio::with(conn, [&](Connection&) -> aio::Task<> { co_await aio::sleep(10); });
  };
  auto t = aio::create_task(user());
  co_await aio::sleep(2);
  t.cancel();
  EXPECT_TRUE(co_await throws<aio::CancelledError>([&] { return t; }));
  EXPECT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].rfind("aexit with ", 0), 0u);
  EXPECT_TRUE(aio::is_cancelled_error(conn.seen));
  EXPECT_DOUBLE_EQ(aio::get_running_loop().time(), 3.0);
}

AIO_TEST(WithClass, LockIsAnAsyncContextManagerThroughHold) {
  aio::Lock lock;
  auto held = co_await lock.hold();  // `async with lock:` is hold() in C++
  EXPECT_TRUE(lock.locked());
  held.release();
  EXPECT_FALSE(lock.locked());
}
