// aio::Queue, LifoQueue, PriorityQueue: CPython's Lib/test/test_asyncio/test_queues.py,
// plus FIFO wake-up order, re-queueing after a lost race, and move-only items.
#include <aio/sync.hpp>

#include <memory>
#include <string>
#include <vector>

#include "sync_helpers.hpp"

using sync_test::repr;
using sync_test::throws;
using sync_test::tick;

namespace {

/// CPython's test_order: puts 1, 3, 2 into `q`.
template <class Q>
aio::Task<> put_1_3_2(Q& q) {
  for (int i : {1, 3, 2}) co_await q.put(i);
}

/// The next `n` items of `q`, in the order get() gives them.
template <class Q>
aio::Task<std::vector<int>> get_n(Q& q, int n) {
  std::vector<int> items;
  for (int i = 0; i < n; ++i) items.push_back(co_await q.get());
  co_return items;
}

/// A getter that notes "name=item" in `got` once it has its item.
aio::Task<> get_noted(aio::Queue<int>& q, std::vector<std::string>& got, std::string name) {
  int v = co_await q.get();
  got.push_back(name + "=" + std::to_string(v));
}

/// Starts a noting getter for each name, in order, and lets them all wait in get().
aio::Task<std::vector<aio::TaskHandle<>>> start_getters(aio::Queue<int>& q, std::vector<std::string>& got,
                                                        std::vector<std::string> names) {
  std::vector<aio::TaskHandle<>> getters;
  for (auto& name : names) getters.push_back(aio::create_task(get_noted(q, got, name)));
  co_await tick();
  co_return getters;
}

}  // namespace

// ---- basics ---------------------------------------------------------------------------

TEST(Queue, ReprAndSize) {
  aio::Queue<int> q;
  EXPECT_EQ(repr(q), "<Queue maxsize=0>");
  EXPECT_TRUE(q.empty());
  q.put_nowait(1);
  EXPECT_FALSE(q.empty());
  EXPECT_EQ(q.qsize(), 1u);
  EXPECT_EQ(repr(q), "<Queue maxsize=0 _queue=[1] tasks=1>");
  EXPECT_EQ(q.get_nowait(), 1);
  EXPECT_TRUE(q.empty());
  aio::Queue<std::string> s;
  s.put_nowait("a");
  EXPECT_EQ(repr(s), "<Queue maxsize=0 _queue=['a'] tasks=1>");
}

AIO_TEST(Queue, ReprShowsWaiters) {
  aio::Queue<int> q;
  auto getter = aio::create_task([](aio::Queue<int>& q) -> aio::Task<int> { co_return co_await q.get(); }(q));
  co_await tick();
  EXPECT_EQ(repr(q), "<Queue maxsize=0 _getters[1]>");
  q.put_nowait(0);
  EXPECT_EQ(co_await getter, 0);

  aio::Queue<int> q2(1);
  q2.put_nowait(1);
  auto putter = aio::create_task([](aio::Queue<int>& q) -> aio::Task<> { co_await q.put(2); }(q2));
  co_await tick();
  EXPECT_EQ(repr(q2), "<Queue maxsize=1 _queue=[1] _putters[1] tasks=1>");
  q2.get_nowait();
  co_await putter;
  EXPECT_TRUE(putter.done());
}

TEST(Queue, Full) {
  aio::Queue<int> unbounded;
  EXPECT_FALSE(unbounded.full());
  aio::Queue<int> q(1);
  q.put_nowait(1);
  EXPECT_TRUE(q.full());
  EXPECT_EQ(q.maxsize(), 1);
  aio::Queue<int> negative(-1);  // <= 0: unbounded
  for (int i = 0; i < 100; ++i) negative.put_nowait(i);
  EXPECT_FALSE(negative.full());
}

AIO_TEST(Queue, Order) {
  aio::Queue<int> q;
  co_await put_1_3_2(q);
  auto items = co_await get_n(q, 3);
  EXPECT_EQ(items, (std::vector<int>{1, 3, 2}));
}

AIO_TEST(Queue, Maxsize) {
  aio::Queue<int> q(2);
  std::vector<int> have_been_put;
  auto putter = [&]() -> aio::Task<bool> {
    for (int i = 0; i < 3; ++i) {
      co_await q.put(i);
      have_been_put.push_back(i);
    }
    co_return true;
  };
  auto t = aio::create_task(putter());
  for (int i = 0; i < 2; ++i) co_await tick();
  EXPECT_EQ(have_been_put, (std::vector<int>{0, 1}));  // blocked after two items
  EXPECT_EQ(co_await q.get(), 0);
  co_await tick();  // the putter resumes and puts the last item
  EXPECT_EQ(have_been_put, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(co_await q.get(), 1);
  EXPECT_EQ(co_await q.get(), 2);
  EXPECT_TRUE(t.done());
  EXPECT_TRUE(t.result());
}

TEST(Queue, NowaitErrors) {
  aio::Queue<int> q(1);
  EXPECT_THROW(q.get_nowait(), aio::QueueEmpty);
  q.put_nowait(1);
  EXPECT_THROW(q.put_nowait(2), aio::QueueFull);
  EXPECT_EQ(q.get_nowait(), 1);
}

TEST(Queue, MoveOnlyItems) {
  aio::Queue<std::unique_ptr<int>> q;
  q.put_nowait(std::make_unique<int>(7));
  auto p = aio::testing::run([](aio::Queue<std::unique_ptr<int>>& q) -> aio::Task<std::unique_ptr<int>> {
    co_await q.put(std::make_unique<int>(8));
    auto first = co_await q.get();
    auto second = co_await q.get();
    EXPECT_EQ(*second, 8);
    co_return first;
  }(q));
  EXPECT_EQ(*p, 7);
}

// ---- get --------------------------------------------------------------------------------

AIO_TEST(QueueGet, Blocking) {
  aio::Queue<int> q;
  q.put_nowait(1);
  EXPECT_EQ(co_await q.get(), 1);
}

AIO_TEST(QueueGet, WakesWaitingPutter) {
  aio::Queue<int> q(1);
  co_await q.put(1);
  bool put_done = false;
  auto putter = [&]() -> aio::Task<> {
    co_await q.put(2);
    put_done = true;
  };
  auto t = aio::create_task(putter());
  co_await tick();
  EXPECT_FALSE(put_done);
  EXPECT_EQ(co_await q.get(), 1);
  co_await tick();
  EXPECT_TRUE(put_done);
  EXPECT_EQ(q.get_nowait(), 2);
  co_await t;
}

AIO_TEST(QueueGet, BlockingWait) {
  aio::Queue<int> q;
  aio::Event started;
  bool finished = false;
  auto queue_get = [&]() -> aio::Task<int> {
    started.set();
    int res = co_await q.get();
    finished = true;
    co_return res;
  };
  auto t = aio::create_task(queue_get());
  co_await started.wait();
  EXPECT_FALSE(finished);
  auto& loop = aio::get_running_loop();
  loop.call_later(0.01, [&] { q.put_nowait(1); });
  EXPECT_EQ(co_await t, 1);
  EXPECT_TRUE(finished);
  EXPECT_DOUBLE_EQ(loop.time(), 0.01);
}

AIO_TEST(QueueGet, CancelledRace) {
  aio::Queue<std::string> q;
  auto get = [&]() -> aio::Task<std::string> { co_return co_await q.get(); };
  auto t1 = aio::create_task(get());
  auto t2 = aio::create_task(get());
  co_await tick();
  t1.cancel();
  co_await tick();
  EXPECT_TRUE(t1.done());
  co_await q.put("a");
  co_await tick();
  EXPECT_EQ(co_await t2, "a");
}

AIO_TEST(QueueGet, WithWaitingPutters) {
  aio::Queue<std::string> q(1);
  auto put = [&](std::string v) -> aio::Task<> { co_await q.put(std::move(v)); };
  auto a = aio::create_task(put("a"));
  auto b = aio::create_task(put("b"));
  EXPECT_EQ(co_await q.get(), "a");
  EXPECT_EQ(co_await q.get(), "b");
  co_await a;
  co_await b;
}

AIO_TEST(QueueGet, WhyAreGettersWaiting) {  // a producer and a consumer through Queue(1) both finish
  aio::Queue<int> q(1);
  int got = 0;
  auto consumer = [&](int n) -> aio::Task<> {
    for (int i = 0; i < n; ++i) got += co_await q.get();
  };
  auto producer = [&](int n) -> aio::Task<> {
    for (int i = 0; i < n; ++i) co_await q.put(i);
  };
  co_await aio::gather(producer(5), consumer(5));
  EXPECT_EQ(got, 0 + 1 + 2 + 3 + 4);
}

AIO_TEST(QueueGet, CancelledGetterNotKept) {
  aio::Queue<int> q(5);
  bool timed_out = false;
  try {
    co_await aio::wait_for(q.get(), 0.1);
  } catch (const aio::TimeoutError&) {
    timed_out = true;
  }
  EXPECT_TRUE(timed_out);
  EXPECT_EQ(repr(q), "<Queue maxsize=5>");  // no getter left behind
}

AIO_TEST(QueueGet, CancelDropsNoItemOnePendingReader) {
  aio::Queue<int> q;
  auto get = [&]() -> aio::Task<int> { co_return co_await q.get(); };
  auto reader = aio::create_task(get());
  co_await tick();
  q.put_nowait(1);
  q.put_nowait(2);
  reader.cancel();  // woken by the first put, cancelled before it ran
  EXPECT_TRUE(co_await throws<aio::CancelledError>([&] { return reader; }));
  reader = aio::create_task(get());  // try again
  EXPECT_EQ(co_await reader, 1);     // 2 would mean 1 got dropped
}

AIO_TEST(QueueGet, CancelDropsNoItemManyPendingReaders) {
  aio::Queue<int> q;
  auto get = [&]() -> aio::Task<int> { co_return co_await q.get(); };
  auto r1 = aio::create_task(get());
  auto r2 = aio::create_task(get());
  auto r3 = aio::create_task(get());
  co_await tick();
  q.put_nowait(1);
  q.put_nowait(2);
  r1.cancel();
  EXPECT_TRUE(co_await throws<aio::CancelledError>([&] { return r1; }));
  co_await r3;
  co_await r2;
  EXPECT_EQ(r2.result() + r3.result(), 3);  // 1 and 2, in either order
  EXPECT_NE(r2.result(), r3.result());
}

AIO_TEST(QueueGet, GettersWokenInFifoOrder) {
  aio::Queue<int> q;
  std::vector<std::string> got;
  const std::vector<std::string> names{"a", "b", "c"};
  auto getters = co_await start_getters(q, got, names);
  for (int i = 1; i <= 3; ++i) q.put_nowait(i);
  co_await aio::gather(getters);
  EXPECT_EQ(got, (std::vector<std::string>{"a=1", "b=2", "c=3"}));
}

AIO_TEST(QueueGet, WokenGetterThatLostItsItemWaitsAgainAtTheBack) {
  aio::Queue<int> q;
  std::vector<std::string> got;
  const std::vector<std::string> names{"a", "b"};
  auto getters = co_await start_getters(q, got, names);
  q.put_nowait(1);               // wakes a
  EXPECT_EQ(q.get_nowait(), 1);  // ... but we take the item before a runs
  co_await tick();
  EXPECT_EQ(repr(q), "<Queue maxsize=0 _getters[2] tasks=1>");  // a waits again, behind b
  q.put_nowait(2);
  q.put_nowait(3);
  co_await aio::gather(getters);
  EXPECT_EQ(got, (std::vector<std::string>{"b=2", "a=3"}));
}

// ---- put --------------------------------------------------------------------------------

AIO_TEST(QueuePut, BlockingWait) {
  aio::Queue<int> q(1);
  aio::Event started;
  bool finished = false;
  auto queue_put = [&]() -> aio::Task<> {
    started.set();
    co_await q.put(1);
    co_await q.put(2);
    finished = true;
  };
  auto& loop = aio::get_running_loop();
  loop.call_later(0.01, [&] { q.get_nowait(); });
  auto t = aio::create_task(queue_put());
  co_await started.wait();
  EXPECT_FALSE(finished);
  co_await t;
  EXPECT_TRUE(finished);
  EXPECT_DOUBLE_EQ(loop.time(), 0.01);
}

AIO_TEST(QueuePut, CancelAddsNothing) {
  aio::Queue<int> q(1);
  q.put_nowait(1);
  auto put = [&](int v) -> aio::Task<> { co_await q.put(v); };
  auto writer = aio::create_task(put(2));  // blocks: qsize == maxsize
  co_await tick();
  EXPECT_EQ(q.get_nowait(), 1);  // wakes the writer ...
  writer.cancel();               // ... which is cancelled before it runs
  EXPECT_TRUE(co_await throws<aio::CancelledError>([&] { return writer; }));
  writer = aio::create_task(put(2));  // try again
  co_await writer;
  EXPECT_EQ(q.get_nowait(), 2);
  EXPECT_EQ(q.qsize(), 0u);  // 2 went in exactly once
}

AIO_TEST(QueuePut, CancelledWhileWaitingAddsNothing) {
  aio::Queue<int> q(1);
  q.put_nowait(1);
  auto put = [&](int v) -> aio::Task<> { co_await q.put(v); };
  auto writer = aio::create_task(put(2));
  co_await tick();
  writer.cancel();
  EXPECT_TRUE(co_await throws<aio::CancelledError>([&] { return writer; }));
  EXPECT_EQ(repr(q), "<Queue maxsize=1 _queue=[1] tasks=1>");
  EXPECT_EQ(q.get_nowait(), 1);
  co_await tick();
  EXPECT_TRUE(q.empty());
}

AIO_TEST(QueuePut, CancelledRace) {
  aio::Queue<std::string> q(1);
  auto put = [&](std::string v) -> aio::Task<> { co_await q.put(std::move(v)); };
  auto put_a = aio::create_task(put("a"));
  auto put_b = aio::create_task(put("b"));
  auto put_c = aio::create_task(put("X"));
  co_await tick();
  EXPECT_TRUE(put_a.done());
  EXPECT_FALSE(put_b.done());
  put_c.cancel();
  co_await tick();
  EXPECT_TRUE(put_c.done());
  EXPECT_EQ(q.get_nowait(), "a");
  co_await tick();
  EXPECT_EQ(q.get_nowait(), "b");
  co_await put_b;
}

AIO_TEST(QueuePut, WithWaitingGetters) {
  aio::Queue<std::string> q;
  auto get = [&]() -> aio::Task<std::string> { co_return co_await q.get(); };
  auto t = aio::create_task(get());
  co_await tick();
  co_await q.put("a");
  EXPECT_EQ(co_await t, "a");
}

AIO_TEST(QueuePut, WhyArePuttersWaiting) {
  aio::Queue<int> q(2);
  auto putter = [&](int item) -> aio::Task<> { co_await q.put(item); };
  auto getter = [&]() -> aio::Task<> {
    co_await tick();
    std::size_t n = q.qsize();
    for (std::size_t i = 0; i < n; ++i) q.get_nowait();
  };
  co_await aio::gather(getter(), putter(0), putter(1), putter(2), putter(3));
  EXPECT_EQ(q.qsize(), 2u);
}

AIO_TEST(QueuePut, CancelledPutterNotKept) {
  aio::Queue<int> q(1);
  q.put_nowait(1);
  auto put = [&]() -> aio::Task<> { co_await q.put(1); };
  auto t = aio::create_task(put());
  co_await tick();
  EXPECT_EQ(repr(q), "<Queue maxsize=1 _queue=[1] _putters[1] tasks=1>");
  t.cancel();
  EXPECT_TRUE(co_await throws<aio::CancelledError>([&] { return t; }));
  EXPECT_EQ(repr(q), "<Queue maxsize=1 _queue=[1] tasks=1>");
}

AIO_TEST(QueuePut, CancelAfterWakeUp) {  // test_cancelled_put_silence_value_error_exception
  aio::Queue<int> q(1);
  q.put_nowait(1);
  auto put = [&]() -> aio::Task<> { co_await q.put(1); };
  auto t = aio::create_task(put());
  co_await tick();
  q.get_nowait();  // takes the putter off the line and wakes it
  t.cancel();
  EXPECT_TRUE(co_await throws<aio::CancelledError>([&] { return t; }));
  EXPECT_TRUE(q.empty());
}

AIO_TEST(QueuePut, PuttersWokenInFifoOrder) {
  aio::Queue<int> q(1);
  q.put_nowait(0);
  auto put = [&](int v) -> aio::Task<> { co_await q.put(v); };
  auto a = aio::create_task(put(1));
  auto b = aio::create_task(put(2));
  auto c = aio::create_task(put(3));
  co_await tick();
  std::vector<int> got;
  for (int i = 0; i < 4; ++i) got.push_back(co_await q.get());
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3}));
  co_await aio::gather(a, b, c);
}

AIO_TEST(QueuePut, WokenPutterThatLostItsSlotWaitsAgainAtTheBack) {
  aio::Queue<int> q(1);
  q.put_nowait(0);
  auto put = [&](int v) -> aio::Task<> { co_await q.put(v); };
  auto a = aio::create_task(put(1));
  auto b = aio::create_task(put(2));
  co_await tick();
  EXPECT_EQ(q.get_nowait(), 0);  // wakes a
  q.put_nowait(9);               // ... but we take the slot before it runs
  co_await tick();
  EXPECT_EQ(repr(q), "<Queue maxsize=1 _queue=[9] _putters[2] tasks=2>");
  std::vector<int> got;
  for (int i = 0; i < 3; ++i) got.push_back(co_await q.get());
  EXPECT_EQ(got, (std::vector<int>{9, 2, 1}));  // b went first, a waited again at the back
  co_await aio::gather(a, b);
}

// ---- LIFO and priority ------------------------------------------------------------------

AIO_TEST(LifoQueue, Order) {
  aio::LifoQueue<int> q;
  co_await put_1_3_2(q);
  EXPECT_EQ(repr(q), "<LifoQueue maxsize=0 _queue=[1, 3, 2] tasks=3>");
  auto items = co_await get_n(q, 3);
  EXPECT_EQ(items, (std::vector<int>{2, 3, 1}));
}

AIO_TEST(PriorityQueue, Order) {
  aio::PriorityQueue<int> q;
  co_await put_1_3_2(q);
  auto items = co_await get_n(q, 3);
  EXPECT_EQ(items, (std::vector<int>{1, 2, 3}));
}

AIO_TEST(PriorityQueue, PairsAndCustomCompare) {
  aio::PriorityQueue<std::pair<int, std::string>> jobs;
  jobs.put_nowait({2, "write"});
  jobs.put_nowait({1, "read"});
  jobs.put_nowait({3, "close"});
  EXPECT_EQ((co_await jobs.get()).second, "read");
  EXPECT_EQ((co_await jobs.get()).second, "write");
  aio::PriorityQueue<int, std::greater<int>> biggest_first(0);
  for (int i : {1, 3, 2}) biggest_first.put_nowait(i);
  EXPECT_EQ(biggest_first.get_nowait(), 3);
  EXPECT_EQ(biggest_first.get_nowait(), 2);
}

// ---- task_done / join --------------------------------------------------------------------

template <class Q>
aio::Task<> check_task_done() {
  Q q;
  EXPECT_THROW(q.task_done(), std::invalid_argument);
  for (int i = 0; i < 100; ++i) q.put_nowait(i);
  int accumulator = 0;
  bool running = true;
  auto worker = [&]() -> aio::Task<> {
    while (running) {
      int item = co_await q.get();
      accumulator += item;
      q.task_done();
    }
  };
  auto w1 = aio::create_task(worker());
  auto w2 = aio::create_task(worker());
  co_await q.join();
  EXPECT_EQ(accumulator, 4950);
  running = false;
  q.put_nowait(0);
  q.put_nowait(0);
  co_await aio::gather(w1, w2);
  co_await q.join();  // empty: at once, twice
  co_await q.join();
  EXPECT_THROW(q.task_done(), std::invalid_argument);
}

AIO_TEST(QueueJoin, TaskDone) {
  co_await check_task_done<aio::Queue<int>>();
  co_await check_task_done<aio::LifoQueue<int>>();
  co_await check_task_done<aio::PriorityQueue<int>>();
}

AIO_TEST(QueueJoin, JoinWaitsForTaskDone) {
  aio::Queue<int> q;
  q.put_nowait(1);
  bool joined = false;
  auto join = [&]() -> aio::Task<> {
    co_await q.join();
    joined = true;
  };
  auto t = aio::create_task(join());
  co_await tick();
  EXPECT_FALSE(joined);
  q.get_nowait();
  co_await tick();
  EXPECT_FALSE(joined);  // got, not done yet
  q.task_done();
  co_await tick();
  EXPECT_TRUE(joined);
  co_await t;
}

// ---- shutdown ----------------------------------------------------------------------------

template <class Q>
aio::Task<> check_shutdown_empty() {
  Q q;
  auto get = [&]() -> aio::Task<> { co_await q.get(); };
  auto get_task = aio::create_task(get());
  co_await tick();
  q.shutdown();
  EXPECT_EQ(q.qsize(), 0u);
  co_await q.join();
  co_await tick();
  EXPECT_TRUE(get_task.done());
  EXPECT_TRUE(co_await throws<aio::QueueShutDown>([&] { return get_task; }));
  EXPECT_TRUE(co_await throws<aio::QueueShutDown>([&] { return q.put(1); }));
  EXPECT_THROW(q.put_nowait(1), aio::QueueShutDown);
  EXPECT_TRUE(co_await throws<aio::QueueShutDown>([&] { return q.get(); }));
  EXPECT_THROW(q.get_nowait(), aio::QueueShutDown);
  EXPECT_EQ(repr(q).find("shutdown") != std::string::npos, true);
}

template <class Q>
aio::Task<> check_shutdown_nonempty() {
  Q q(1);
  q.put_nowait(1);
  auto join = [&]() -> aio::Task<> { co_await q.join(); };
  auto put = [&]() -> aio::Task<> { co_await q.put(2); };
  auto join_task = aio::create_task(join());
  auto put_task = aio::create_task(put());
  co_await tick();
  EXPECT_FALSE(put_task.done());
  q.shutdown(false);
  EXPECT_EQ(q.qsize(), 1u);
  co_await tick();
  EXPECT_TRUE(put_task.done());
  EXPECT_TRUE(co_await throws<aio::QueueShutDown>([&] { return put_task; }));
  EXPECT_EQ(co_await q.get(), 1);  // what is in the queue can still be got
  co_await tick();
  EXPECT_FALSE(join_task.done());
  EXPECT_TRUE(co_await throws<aio::QueueShutDown>([&] { return q.put(3); }));
  EXPECT_THROW(q.put_nowait(3), aio::QueueShutDown);
  EXPECT_TRUE(co_await throws<aio::QueueShutDown>([&] { return q.get(); }));
  EXPECT_THROW(q.get_nowait(), aio::QueueShutDown);
  q.task_done();
  co_await tick();
  EXPECT_TRUE(join_task.done());
  co_await join_task;
  EXPECT_THROW(q.task_done(), std::invalid_argument);
}

template <class Q>
aio::Task<> check_shutdown_immediate() {
  Q q;
  q.put_nowait(1);
  auto join = [&]() -> aio::Task<> { co_await q.join(); };
  auto join_task = aio::create_task(join());
  q.shutdown(true);
  EXPECT_EQ(q.qsize(), 0u);
  co_await tick();
  EXPECT_TRUE(join_task.done());
  co_await join_task;
  EXPECT_TRUE(co_await throws<aio::QueueShutDown>([&] { return q.put(2); }));
  EXPECT_THROW(q.put_nowait(2), aio::QueueShutDown);
  EXPECT_TRUE(co_await throws<aio::QueueShutDown>([&] { return q.get(); }));
  EXPECT_THROW(q.get_nowait(), aio::QueueShutDown);
  EXPECT_THROW(q.task_done(), std::invalid_argument);
}

template <class Q>
aio::Task<> check_shutdown_immediate_with_unfinished() {
  Q q;
  q.put_nowait(1);
  q.put_nowait(2);
  auto join = [&]() -> aio::Task<> { co_await q.join(); };
  auto join_task = aio::create_task(join());
  co_await q.get();
  q.shutdown(true);  // unfinished: 2 -> 1
  EXPECT_EQ(q.qsize(), 0u);
  co_await tick();
  EXPECT_FALSE(join_task.done());
  EXPECT_TRUE(co_await throws<aio::QueueShutDown>([&] { return q.get(); }));
  q.task_done();
  EXPECT_THROW(q.task_done(), std::invalid_argument);
  co_await tick();
  EXPECT_TRUE(join_task.done());
  co_await join_task;
}

template <class Q>
aio::Task<> check_shutdown_immediate_wakes_getters_and_putters() {
  Q getq;
  Q putq(1);
  putq.put_nowait(0);
  auto get = [&]() -> aio::Task<> { co_await getq.get(); };
  auto put = [&]() -> aio::Task<> { co_await putq.put(1); };
  auto g1 = aio::create_task(get());
  auto g2 = aio::create_task(get());
  auto p1 = aio::create_task(put());
  co_await tick();
  getq.shutdown(true);
  putq.shutdown(true);
  EXPECT_TRUE(co_await throws<aio::QueueShutDown>([&] { return g1; }));
  EXPECT_TRUE(co_await throws<aio::QueueShutDown>([&] { return g2; }));
  EXPECT_TRUE(co_await throws<aio::QueueShutDown>([&] { return p1; }));
  EXPECT_EQ(putq.qsize(), 0u);
}

template <class Q>
aio::Task<> check_all_shutdowns() {
  co_await check_shutdown_empty<Q>();
  co_await check_shutdown_nonempty<Q>();
  co_await check_shutdown_immediate<Q>();
  co_await check_shutdown_immediate_with_unfinished<Q>();
  co_await check_shutdown_immediate_wakes_getters_and_putters<Q>();
}

AIO_TEST(QueueShutdown, Queue) { co_await check_all_shutdowns<aio::Queue<int>>(); }
AIO_TEST(QueueShutdown, LifoQueue) { co_await check_all_shutdowns<aio::LifoQueue<int>>(); }
AIO_TEST(QueueShutdown, PriorityQueue) { co_await check_all_shutdowns<aio::PriorityQueue<int>>(); }

TEST(QueueShutdown, Format) {
  aio::Queue<int> q;
  q.shutdown();
  EXPECT_EQ(repr(q), "<Queue maxsize=0 shutdown>");
}

AIO_TEST(QueueGet, UnderTimeoutInline) {
  aio::Queue<int> q;
  EXPECT_TRUE(co_await throws<aio::TimeoutError>([&] { return aio::timeout(0.5, q.get()); }));
  EXPECT_EQ(repr(q), "<Queue maxsize=0>");
  q.put_nowait(4);
  EXPECT_EQ(co_await aio::timeout(0.5, q.get()), 4);
  aio::Queue<int> full(1);
  full.put_nowait(1);
  EXPECT_TRUE(co_await throws<aio::TimeoutError>([&] { return aio::timeout(0.5, full.put(2)); }));
  EXPECT_EQ(repr(full), "<Queue maxsize=1 _queue=[1] tasks=1>");
}
