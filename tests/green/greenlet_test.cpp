// Behaviour of aio::green::Greenlet, checked against Python greenlet's documented semantics.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <aio/green.hpp>
#include <any>
#include <array>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

using aio::green::getcurrent;
using aio::green::Greenlet;
using aio::green::GreenletExit;
using aio::green::Options;

struct MyError {
  int code;
};

// greenlet's docs: test1 prints 12, switches to test2 (56), which switches back (34); test1
// then ends, so control returns to main and 78 is never printed.
TEST(Greenlet, DocsExamplePrints12_56_34) {
  std::vector<int> out;
  Greenlet* gr1p = nullptr;
  Greenlet* gr2p = nullptr;
  Greenlet gr1([&] {
    out.push_back(12);
    gr2p->switch_to();
    out.push_back(34);
  });
  Greenlet gr2([&] {
    out.push_back(56);
    gr1p->switch_to();
    out.push_back(78);
  });
  gr1p = &gr1;
  gr2p = &gr2;
  gr1.switch_to();
  EXPECT_EQ(out, (std::vector<int>{12, 56, 34}));
  EXPECT_TRUE(gr1.dead());
  EXPECT_FALSE(gr2.dead());  // suspended; killed by its destructor
}

// The seed's variant (func1/func2): prints 1 3 2 4.
TEST(Greenlet, SeedExamplePrints1_3_2_4) {
  std::vector<int> out;
  Greenlet* gr1p = nullptr;
  Greenlet* gr2p = nullptr;
  Greenlet gr1([&] {
    out.push_back(1);
    gr2p->switch_to();
    out.push_back(2);
    gr2p->switch_to();
  });
  Greenlet gr2([&] {
    out.push_back(3);
    gr1p->switch_to();
    out.push_back(4);
  });
  gr1p = &gr1;
  gr2p = &gr2;
  gr1.switch_to();
  EXPECT_EQ(out, (std::vector<int>{1, 3, 2, 4}));
  EXPECT_FALSE(gr1.dead());
  EXPECT_TRUE(gr2.dead());
}

TEST(Greenlet, ValuesCrossSwitchesBothWays) {
  Greenlet& main = getcurrent();
  Greenlet gr([&](std::any first) {
    int a = std::any_cast<int>(first);
    std::any second = main.switch_to(a + 1);
    std::string s = std::any_cast<std::string>(second);
    return s + "!";
  });
  EXPECT_EQ(std::any_cast<int>(gr.switch_to(41)), 42);
  EXPECT_FALSE(gr.dead());
  EXPECT_EQ(std::any_cast<std::string>(gr.switch_to(std::string("hi"))), "hi!");
  EXPECT_TRUE(gr.dead());
}

TEST(Greenlet, ReturnValueGoesToParent) {
  Greenlet gr([] { return 7; });
  std::any r = gr.switch_to();
  EXPECT_EQ(std::any_cast<int>(r), 7);
  EXPECT_TRUE(gr.dead());
}

TEST(Greenlet, VoidFunctionReturnsEmptyValueAndNoArgFunctionIgnoresValue) {
  bool ran = false;
  Greenlet gr([&] { ran = true; });
  EXPECT_FALSE(gr.switch_to(123).has_value());
  EXPECT_TRUE(ran);
}

TEST(Greenlet, ExceptionPropagatesToParentWithItsType) {
  Greenlet gr([]() -> int { throw MyError{5}; });
  try {
    gr.switch_to();
    FAIL() << "no exception";
  } catch (const MyError& e) {
    EXPECT_EQ(e.code, 5);
  }
  EXPECT_TRUE(gr.dead());
}

TEST(Greenlet, ThrowToRaisesAtTheSwitchPoint) {
  Greenlet& main = getcurrent();
  Greenlet gr([&] {
    try {
      main.switch_to(std::string("suspended"));
    } catch (const MyError& e) {
      return e.code * 2;
    }
    return -1;
  });
  EXPECT_EQ(std::any_cast<std::string>(gr.switch_to()), "suspended");
  EXPECT_EQ(std::any_cast<int>(gr.throw_to(std::make_exception_ptr(MyError{21}))), 42);
  EXPECT_TRUE(gr.dead());
}

TEST(Greenlet, ThrowToUnstartedDiesWithoutRunningAndRaisesInParent) {
  bool ran = false;
  Greenlet gr([&] { ran = true; });
  EXPECT_THROW(gr.throw_to(std::make_exception_ptr(MyError{1})), MyError);
  EXPECT_FALSE(ran);
  EXPECT_TRUE(gr.dead());
  EXPECT_FALSE(gr.active());
}

TEST(Greenlet, ThrowToDefaultsToGreenletExitWhichKillsQuietly) {
  Greenlet& main = getcurrent();
  bool after = false;
  bool caught_as_std_exception = false;
  Greenlet gr([&] {
    try {
      main.switch_to();
    } catch (const std::exception&) {
      caught_as_std_exception = true;
    }
    after = true;
  });
  gr.switch_to();
  std::any r = gr.throw_to();
  EXPECT_FALSE(r.has_value());
  EXPECT_TRUE(gr.dead());
  EXPECT_FALSE(after);
  EXPECT_FALSE(caught_as_std_exception);

  Greenlet unstarted([] {});
  EXPECT_FALSE(unstarted.throw_to().has_value());
  EXPECT_TRUE(unstarted.dead());
}

// A child whose parent is another greenlet returns into that greenlet, not into its caller.
TEST(Greenlet, ParentChain) {
  Greenlet& main = getcurrent();
  Greenlet outer([&] {
    std::any from_child = main.switch_to(std::string("outer waiting"));
    return std::any_cast<int>(from_child) * 2;
  });
  EXPECT_EQ(std::any_cast<std::string>(outer.switch_to()), "outer waiting");
  Greenlet child([] { return 21; }, outer);
  EXPECT_EQ(child.parent(), &outer);
  EXPECT_EQ(outer.parent(), &main);
  // child returns 21 into outer's pending switch; outer returns 42 into main's pending switch.
  EXPECT_EQ(std::any_cast<int>(child.switch_to()), 42);
  EXPECT_TRUE(child.dead());
  EXPECT_TRUE(outer.dead());
}

TEST(Greenlet, ExceptionFollowsParentChain) {
  Greenlet& main = getcurrent();
  Greenlet outer([&] {
    try {
      main.switch_to();
    } catch (const MyError& e) {
      return e.code + 1;
    }
    return 0;
  });
  outer.switch_to();
  Greenlet child([]() -> int { throw MyError{9}; }, outer);
  EXPECT_EQ(std::any_cast<int>(child.switch_to()), 10);
}

TEST(Greenlet, SwitchToDeadGoesToNearestLiveAncestor) {
  Greenlet& main = getcurrent();
  Greenlet gr([] { return 1; });
  gr.switch_to();
  ASSERT_TRUE(gr.dead());
  // Its parent is the caller itself, so the value comes straight back (as in Python).
  EXPECT_EQ(std::any_cast<int>(gr.switch_to(5)), 5);

  Greenlet outer([&](std::any v) {
    while (true) v = main.switch_to(std::any_cast<int>(v) * 10);
  });
  outer.switch_to(0);
  Greenlet dead_child([] {}, outer);
  dead_child.set_parent(main);
  dead_child.switch_to();
  ASSERT_TRUE(dead_child.dead());
  dead_child.set_parent(outer);
  EXPECT_EQ(std::any_cast<int>(dead_child.switch_to(3)), 30);  // reached outer
}

TEST(Greenlet, DeadAndActive) {
  Greenlet& main = getcurrent();
  Greenlet gr([&] { main.switch_to(); });
  EXPECT_FALSE(gr.active());
  EXPECT_FALSE(gr.dead());
  gr.switch_to();
  EXPECT_TRUE(gr.active());
  EXPECT_FALSE(gr.dead());
  gr.switch_to();
  EXPECT_TRUE(gr.dead());
  EXPECT_FALSE(gr.active());
  EXPECT_TRUE(main.active());
  EXPECT_FALSE(main.dead());
}

TEST(Greenlet, GetcurrentIdentity) {
  Greenlet& main = getcurrent();
  EXPECT_EQ(&main, &getcurrent());
  EXPECT_EQ(main.parent(), nullptr);
  Greenlet* inside = nullptr;
  Greenlet* inner_parent = nullptr;
  Greenlet gr([&] {
    inside = &getcurrent();
    Greenlet nested([&] { inner_parent = getcurrent().parent(); });
    nested.switch_to();
  });
  EXPECT_EQ(gr.parent(), &main);
  gr.switch_to();
  EXPECT_EQ(inside, &gr);
  EXPECT_EQ(inner_parent, &gr);
  EXPECT_EQ(&getcurrent(), &main);
  EXPECT_THROW(main.set_parent(gr), std::invalid_argument);
}

TEST(Greenlet, EachThreadHasItsOwnMainAndCannotSwitchToAnother) {
  Greenlet& main = getcurrent();
  Greenlet gr([] { return 1; });
  Greenlet* other_main = nullptr;
  bool refused = false;
  std::thread t([&] {
    other_main = &getcurrent();
    try {
      gr.switch_to();
    } catch (const std::logic_error&) {
      refused = true;
    }
  });
  t.join();
  EXPECT_NE(other_main, &main);
  EXPECT_TRUE(refused);
  EXPECT_EQ(std::any_cast<int>(gr.switch_to()), 1);
}

TEST(Greenlet, SetParentRejectsCycles) {
  Greenlet& main = getcurrent();
  Greenlet a([] {});
  Greenlet b([] {}, a);
  EXPECT_THROW(a.set_parent(b), std::invalid_argument);
  EXPECT_THROW(a.set_parent(a), std::invalid_argument);
  b.set_parent(main);
  a.set_parent(b);
  EXPECT_EQ(a.parent(), &b);
  a.set_parent(main);  // so both can be destroyed in any order
}

struct Sentinel {
  std::vector<std::string>* log;
  std::string name;
  ~Sentinel() { log->push_back(name); }
};

TEST(Greenlet, DestroyingASuspendedGreenletUnwindsItsStack) {
  std::vector<std::string> log;
  Greenlet& main = getcurrent();
  bool saw_exit = false;
  {
    Greenlet gr([&] {
      Sentinel outer{&log, "outer"};
      try {
        Sentinel inner{&log, "inner"};
        // A child living on this stack is killed as the unwinding destroys it.
        Greenlet child([&] {
          Sentinel c{&log, "child"};
          main.switch_to();
        });
        child.switch_to();
        main.switch_to();
        log.push_back("resumed");
      } catch (const GreenletExit&) {
        saw_exit = true;
        throw;
      }
    });
    gr.switch_to();
    EXPECT_TRUE(log.empty());
  }
  EXPECT_TRUE(saw_exit);
  EXPECT_EQ(log, (std::vector<std::string>{"child", "inner", "outer"}));
}

TEST(Greenlet, DestroyingAnUnstartedGreenletDestroysItsFunction) {
  auto token = std::make_shared<int>(1);
  {
    Greenlet gr([token] { return *token; });
    EXPECT_EQ(token.use_count(), 2);
  }
  EXPECT_EQ(token.use_count(), 1);
  {
    Greenlet gr([token] { return *token; });
    gr.switch_to();
    EXPECT_EQ(token.use_count(), 1);  // released when it finished, not when destroyed
  }
}

// The C++ exception state (caught-exception chain, uncaught count) belongs to each greenlet.
TEST(Greenlet, ExceptionStateIsPerGreenlet) {
  Greenlet& main = getcurrent();
  int rethrown = 0;
  Greenlet gr([&] {
    try {
      throw MyError{1};
    } catch (const MyError&) {
      main.switch_to();  // suspended inside a handler
      try {
        throw;
      } catch (const MyError& e) {
        rethrown = e.code;
      }
    }
  });
  gr.switch_to();
  try {
    throw MyError{2};
  } catch (const MyError& outer) {
    EXPECT_EQ(outer.code, 2);
    gr.switch_to();  // resumed from inside another handler
    EXPECT_EQ(std::current_exception() != nullptr, true);
    try {
      throw;
    } catch (const MyError& e) {
      EXPECT_EQ(e.code, 2);
    }
  }
  EXPECT_EQ(rethrown, 1);
  EXPECT_EQ(std::current_exception(), nullptr);

  // A greenlet resumed by a destructor during unwinding sees no uncaught exception of its own.
  int uncaught_inside = -1;
  Greenlet probe([&] { uncaught_inside = std::uncaught_exceptions(); });
  struct Resumer {
    Greenlet* g;
    ~Resumer() { g->switch_to(); }
  };
  try {
    Resumer r{&probe};
    throw MyError{3};
  } catch (const MyError&) {
  }
  EXPECT_EQ(uncaught_inside, 0);
}

// A greenlet suspended by one party can be resumed from anywhere on its thread, e.g. a callback
// that another greenlet runs; when it finishes it still returns to its own parent.
TEST(Greenlet, ResumableFromAnArbitraryPlace) {
  Greenlet& main = getcurrent();
  std::vector<std::function<void()>> callbacks;
  std::vector<int> out;
  Greenlet waiter([&] {
    Greenlet& self = getcurrent();
    callbacks.push_back([&self] { self.switch_to(99); });
    out.push_back(std::any_cast<int>(main.switch_to()));  // "await"
    return 1;
  });
  waiter.switch_to();
  Greenlet runner([&] {
    for (auto& cb : callbacks) cb();
    out.push_back(2);
  });
  // runner resumes waiter; waiter finishes and returns to main (its parent), runner stays suspended.
  EXPECT_EQ(std::any_cast<int>(runner.switch_to()), 1);
  EXPECT_EQ(out, (std::vector<int>{99}));
  EXPECT_FALSE(runner.dead());
  runner.switch_to();
  EXPECT_EQ(out, (std::vector<int>{99, 2}));
}

TEST(Greenlet, LargeFunctionObjectsAndCustomStackSize) {
  std::array<char, 64 * 1024> big{};
  big[100] = 7;
  Greenlet gr([big] { return int(big[100]); });  // larger than 1/8 of the stack: kept on the heap
  EXPECT_EQ(std::any_cast<int>(gr.switch_to()), 7);

  Greenlet small(
      [] {
        volatile char buf[40 * 1024];
        buf[0] = 1;
        buf[sizeof(buf) - 1] = 2;
        return buf[0] + buf[sizeof(buf) - 1];
      },
      {.stack_size = 64 * 1024});
  EXPECT_EQ(std::any_cast<int>(small.switch_to()), 3);
}

// Counts mappings shaped like a greenlet stack of `usable` bytes: one PROT_NONE guard page
// directly below a read-write region (heap allocators never produce this pair).
std::size_t stack_mappings(std::size_t usable) {
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  std::ifstream maps("/proc/self/maps");
  std::size_t n = 0;
  std::uintptr_t prev_lo = 0, prev_hi = 0;
  std::string prev_perms;
  for (std::string line; std::getline(maps, line);) {
    std::uintptr_t lo = 0, hi = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &lo, &hi, perms) != 3) continue;
    if (prev_perms == "---p" && prev_hi - prev_lo == page && prev_hi == lo && std::string(perms) == "rw-p" &&
        hi - lo == usable)
      ++n;
    prev_lo = lo;
    prev_hi = hi;
    prev_perms = perms;
  }
  return n;
}

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define AIO_TEST_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__) || defined(AIO_TEST_TSAN)
constexpr long kAlive = 4000;  // TSan counts each fiber as a thread and caps threads at 8128
#else
constexpr long kAlive = 10000;
#endif

TEST(Greenlet, ManyGreenletsDoNotLeak) {
  Greenlet& main = getcurrent();
  constexpr std::size_t kStack = 32 * 1024;
  const std::size_t before = stack_mappings(kStack);
  long sum = 0;
  for (int i = 0; i < 10000; ++i) {
    Greenlet gr([i] { return i; });
    sum += std::any_cast<int>(gr.switch_to());
  }
  EXPECT_EQ(sum, 10000L * 9999 / 2);

  // kAlive alive at once, each suspended mid-function, then destroyed.
  long resumed = 0;
  {
    std::vector<std::unique_ptr<Greenlet>> all;
    for (int i = 0; i < kAlive; ++i) {
      all.push_back(std::make_unique<Greenlet>(
          [&main, &resumed](std::any v) {
            auto owned = std::make_unique<int>(std::any_cast<int>(v));  // must be freed by the unwinding
            main.switch_to();
            resumed += *owned;
          },
          Options{.stack_size = kStack}));
      all.back()->switch_to(i);
    }
    EXPECT_GE(stack_mappings(kStack), before + kAlive * 9 / 10);  // the census does see live stacks
    for (int i = 0; i < kAlive; i += 2) all[i]->switch_to();  // half finish normally
  }
  EXPECT_EQ(resumed, 2 * ((kAlive / 2 - 1) * (kAlive / 2) / 2));
  // Only the per-thread stack cache (16 stacks) may remain.
  EXPECT_LE(stack_mappings(kStack), before + 16);
}

// Overflowing a greenlet's stack must fault on its guard page, not scribble over other memory.
std::uintptr_t g_guard_lo, g_guard_hi;

void on_segv(int, siginfo_t* info, void*) {
  auto addr = reinterpret_cast<std::uintptr_t>(info->si_addr);
  const char* msg = addr >= g_guard_lo && addr < g_guard_hi ? "SIGSEGV on the guard page\n" : "SIGSEGV elsewhere\n";
  ssize_t ignored = ::write(2, msg, __builtin_strlen(msg));
  (void)ignored;
  ::_exit(3);
}

volatile int g_depth_limit = 1 << 30;  // never reached: the guard page stops the recursion first

[[gnu::noinline]] int recurse(int depth) {
  if (depth == g_depth_limit) return 0;
  volatile char frame[512];
  frame[0] = char(depth);
  frame[sizeof(frame) - 1] = char(depth);
  return recurse(depth + 1) + frame[0] + frame[sizeof(frame) - 1];
}

void overflow_a_greenlet() {
  static char altstack[64 * 1024];
  stack_t ss{};
  ss.ss_sp = altstack;
  ss.ss_size = sizeof(altstack);
  ::sigaltstack(&ss, nullptr);
  struct sigaction sa{};
  sa.sa_sigaction = &on_segv;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  ::sigaction(SIGSEGV, &sa, nullptr);
  constexpr std::size_t kStack = 64 * 1024;
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  Greenlet gr(
      [&] {
        // The stack's top is within a page of this frame; the guard page is one stack below.
        auto top = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
        g_guard_lo = top - kStack - 2 * page;
        g_guard_hi = top - kStack + page;
        return recurse(0);
      },
      {.stack_size = kStack});
  gr.switch_to();
}

TEST(GreenletDeathTest, StackOverflowHitsTheGuardPage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(overflow_a_greenlet(), "SIGSEGV on the guard page");
}

}  // namespace
