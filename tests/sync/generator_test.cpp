// aio::Generator (range-for, yield_from) and aio::Coroutine (next/send/close/done).
#include <aio/sync.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace {

aio::Generator<int> count_to(int n) {
  for (int i = 1; i <= n; ++i) co_yield i;
}

aio::Generator<int> nested() {
  co_yield 0;
  co_yield aio::yield_from(count_to(3));  // a generator taken over
  std::vector<int> more{10, 20};
  co_yield aio::yield_from(more);  // any range
  co_yield 99;
}

aio::Generator<std::string> words() {
  std::string w = "kept";
  co_yield w;                     // an lvalue: the loop sees the variable itself
  co_yield std::string("moved");  // a temporary
  co_yield "converted";           // converted to std::string
}

aio::Generator<int> failing() {
  co_yield 1;
  throw std::domain_error("bad");
}

aio::Generator<int> deep(int depth) {
  co_yield depth;
  if (depth > 0) co_yield aio::yield_from(deep(depth - 1));
}

}  // namespace

TEST(Generator, RangeFor) {
  std::vector<int> got;
  for (int v : count_to(4)) got.push_back(v);
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3, 4}));
}

TEST(Generator, Lazy) {
  int runs = 0;
  auto gen = [](int& runs) -> aio::Generator<int> {
    ++runs;
    co_yield 1;
    ++runs;
  }(runs);
  EXPECT_EQ(runs, 0);  // nothing runs until iterated
  auto it = gen.begin();
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(*it, 1);
  ++it;
  EXPECT_EQ(runs, 2);
  EXPECT_TRUE(it == gen.end());
}

TEST(Generator, YieldFrom) {
  std::vector<int> got;
  for (int v : nested()) got.push_back(v);
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 10, 20, 99}));
  std::vector<int> d;
  for (int v : deep(4)) d.push_back(v);
  EXPECT_EQ(d, (std::vector<int>{4, 3, 2, 1, 0}));
}

TEST(Generator, YieldFromLvalueGeneratorAndEmpty) {
  auto inner = count_to(2);
  auto outer = [](aio::Generator<int>& inner) -> aio::Generator<int> {
    co_yield aio::yield_from(inner);
    co_yield aio::yield_from(count_to(0));  // nothing
    co_yield aio::yield_from(std::vector<int>{});
    co_yield 7;
  }(inner);
  std::vector<int> got;
  for (int v : outer) got.push_back(v);
  EXPECT_EQ(got, (std::vector<int>{1, 2, 7}));
}

TEST(Generator, Values) {
  std::vector<std::string> got;
  for (auto& w : words()) got.push_back(w);
  EXPECT_EQ(got, (std::vector<std::string>{"kept", "moved", "converted"}));
}

TEST(Generator, ReferenceToYieldedObject) {
  auto gen = []() -> aio::Generator<std::unique_ptr<int>> {
    co_yield std::make_unique<int>(5);
    auto p = std::make_unique<int>(6);
    co_yield p;
  }();
  std::vector<int> got;
  for (auto& p : gen) {
    auto mine = std::move(p);  // move-only values can be taken
    got.push_back(*mine);
  }
  EXPECT_EQ(got, (std::vector<int>{5, 6}));
}

TEST(Generator, ExceptionComesOutOfTheLoop) {
  std::vector<int> got;
  EXPECT_THROW(
      {
        for (int v : failing()) got.push_back(v);
      },
      std::domain_error);
  EXPECT_EQ(got, std::vector<int>{1});
  auto rethrow_nested = []() -> aio::Generator<int> { co_yield aio::yield_from(failing()); }();
  got.clear();
  EXPECT_THROW(
      {
        for (int v : rethrow_nested) got.push_back(v);
      },
      std::domain_error);
  EXPECT_EQ(got, std::vector<int>{1});
}

TEST(Generator, BreakDestroysTheFrame) {
  struct Flag {
    bool& destroyed;
    ~Flag() { destroyed = true; }
  };
  bool destroyed = false;
  {
    auto gen = [](bool& destroyed) -> aio::Generator<int> {
      Flag f{destroyed};
      for (int i = 0;; ++i) co_yield i;
    }(destroyed);
    for (int v : gen)
      if (v == 3) break;
    EXPECT_FALSE(destroyed);
  }
  EXPECT_TRUE(destroyed);
}

// ---- Coroutine: seed 002 §2 --------------------------------------------------------------

namespace {

aio::Coroutine<std::string, int> consumer(std::vector<std::string>& out) {
  std::string r;
  for (;;) {
    int n = co_yield r;
    if (!n) co_return;
    out.push_back("[CONSUMER] Consuming " + std::to_string(n) + "...");
    r = "OK";
  }
}

aio::Coroutine<int, std::string> grep(std::vector<std::string>& out, std::string pattern) {
  for (;;) {
    std::string line = co_yield 0;
    if (line.find(pattern) != std::string::npos) out.push_back(line);
  }
}

}  // namespace

TEST(Coroutine, NextStartsSendResumes) {
  std::vector<std::string> out;
  auto c = consumer(out);
  EXPECT_FALSE(c.done());
  EXPECT_EQ(c.next(), std::optional<std::string>(""));  // c.send(None): runs to the first yield
  EXPECT_EQ(c.send(1), std::optional<std::string>("OK"));
  EXPECT_EQ(c.send(2), std::optional<std::string>("OK"));
  EXPECT_EQ(out, (std::vector<std::string>{"[CONSUMER] Consuming 1...", "[CONSUMER] Consuming 2..."}));
  EXPECT_EQ(c.next(), std::nullopt);  // next() sends S{} (None): `if not n: return`
  EXPECT_TRUE(c.done());
  EXPECT_EQ(c.send(3), std::nullopt);  // finished: StopIteration
}

TEST(Coroutine, SendBeforeStartIsAnError) {
  std::vector<std::string> out;
  auto c = consumer(out);
  EXPECT_THROW(c.send(1), std::logic_error);
}

TEST(Coroutine, Grep) {
  std::vector<std::string> out;
  auto search = grep(out, "coroutine");
  search.next();
  search.send("I love you");
  search.send("I love coroutine instead!");
  search.close();
  EXPECT_TRUE(search.done());
  EXPECT_EQ(out, std::vector<std::string>{"I love coroutine instead!"});
}

TEST(Coroutine, CloseRunsCleanup) {
  std::vector<std::string> log;
  struct Guard {
    std::vector<std::string>& log;
    ~Guard() { log.push_back("raii"); }
  };
  auto c = [](std::vector<std::string>& log) -> aio::Coroutine<int, int> {
    Guard g{log};
    try {
      for (;;) co_yield 1;
    } catch (const aio::GeneratorExit&) {
      log.push_back("GeneratorExit");
      throw;
    }
  }(log);
  c.next();
  c.close();
  EXPECT_TRUE(c.done());
  EXPECT_EQ(log, (std::vector<std::string>{"GeneratorExit", "raii"}));
  c.close();  // closing again does nothing
  EXPECT_EQ(log.size(), 2u);
}

TEST(Coroutine, CloseUnstartedRunsNothing) {
  int runs = 0;
  auto c = [](int& runs) -> aio::Coroutine<int, int> {
    ++runs;
    co_yield 1;
  }(runs);
  c.close();
  EXPECT_TRUE(c.done());
  EXPECT_EQ(runs, 0);
  EXPECT_EQ(c.next(), std::nullopt);
}

TEST(Coroutine, ReturningAfterGeneratorExitIsFine) {
  auto c = []() -> aio::Coroutine<int, int> {
    try {
      co_yield 1;
    } catch (const aio::GeneratorExit&) {
    }
  }();
  c.next();
  EXPECT_NO_THROW(c.close());
  EXPECT_TRUE(c.done());
}

TEST(Coroutine, IgnoringGeneratorExitIsAnError) {
  auto c = []() -> aio::Coroutine<int, int> {
    for (;;) {
      try {
        co_yield 1;
      } catch (const aio::GeneratorExit&) {
      }
    }
  }();
  c.next();
  EXPECT_THROW(c.close(), std::runtime_error);
  EXPECT_TRUE(c.done());
}

TEST(Coroutine, OtherErrorFromCloseEscapes) {
  auto c = []() -> aio::Coroutine<int, int> {
    try {
      co_yield 1;
    } catch (const aio::GeneratorExit&) {
      throw std::domain_error("cleanup failed");
    }
  }();
  c.next();
  EXPECT_THROW(c.close(), std::domain_error);
}

TEST(Coroutine, DestructorCloses) {
  std::vector<std::string> log;
  {
    auto c = [](std::vector<std::string>& log) -> aio::Coroutine<int, int> {
      try {
        co_yield 1;
      } catch (const aio::GeneratorExit&) {
        log.push_back("closed");
        throw;
      }
    }(log);
    c.next();
  }
  EXPECT_EQ(log, std::vector<std::string>{"closed"});
}

TEST(Coroutine, YieldFromForwardsSend) {
  auto inner = []() -> aio::Coroutine<int, int> {
    int total = 0;
    for (int i = 0; i < 2; ++i) total += co_yield total;
  };
  auto outer = [&]() -> aio::Coroutine<int, int> {
    co_yield aio::yield_from(inner());
    co_yield -1;
  };
  auto c = outer();
  EXPECT_EQ(c.next(), 0);
  EXPECT_EQ(c.send(5), 5);  // reaches the inner coroutine
  EXPECT_EQ(c.send(7), -1);  // inner returned; the outer goes on
  EXPECT_EQ(c.next(), std::nullopt);
}

TEST(Coroutine, ExceptionFromSend) {
  auto c = []() -> aio::Coroutine<int, int> {
    int n = co_yield 0;
    if (n < 0) throw std::invalid_argument("negative");
  }();
  c.next();
  EXPECT_THROW(c.send(-1), std::invalid_argument);
  EXPECT_TRUE(c.done());
}
