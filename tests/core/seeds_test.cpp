// The seeds' core examples (../shared/seeds/*.txt), written with aio, compared line by line
// with what the seeds print. Python's print() becomes a push into `out`; time.sleep-free
// waits run on the virtual clock, so "Wall time: 2.01 s" becomes loop.time() == 2.
#include <stdexcept>
#include <string>
#include <vector>

#include "helpers.hpp"

using aio_test::list_repr;
using aio_test::repr;
using Lines = std::vector<std::string>;

// ---- seed 001 -----------------------------------------------------------------------

namespace seed001 {

aio::Task<> crawl_page(Lines& out, std::string url) {
  out.push_back("crawling " + url);
  int sleep_time = std::stoi(url.substr(url.rfind('_') + 1));
  co_await aio::sleep(sleep_time);
  out.push_back("OK " + url);
}

aio::Task<> worker_1(Lines& out) {
  out.push_back("worker_1 start");
  co_await aio::sleep(1);
  out.push_back("worker_1 done");
}

aio::Task<> worker_2(Lines& out) {
  out.push_back("worker_2 start");
  co_await aio::sleep(2);
  out.push_back("worker_2 done");
}

aio::Task<int> worker_1_value() {
  co_await aio::sleep(1);
  co_return 1;
}

aio::Task<int> worker_2_value() {
  co_await aio::sleep(2);
  throw std::domain_error("division by zero");  // `return 2/0`: Python's ZeroDivisionError
}

aio::Task<int> worker_3_value() {
  co_await aio::sleep(3);
  co_return 3;
}

}  // namespace seed001

AIO_TEST(Seed001, CrawlSequentially) {  // §1.3: awaiting each coroutine in turn takes the sum
  Lines out;
  for (std::string url : {"url_1", "url_2", "url_3", "url_4"}) co_await seed001::crawl_page(out, url);
  EXPECT_EQ(out, (Lines{"crawling url_1", "OK url_1", "crawling url_2", "OK url_2", "crawling url_3", "OK url_3",
                        "crawling url_4", "OK url_4"}));
  EXPECT_EQ(aio::get_running_loop().time(), 10.0);
}

AIO_TEST(Seed001, CrawlWithTasks) {  // §1.4
  Lines out;
  std::vector<aio::TaskHandle<>> tasks;
  for (std::string url : {"url_1", "url_2", "url_3", "url_4"})
    tasks.push_back(aio::create_task(seed001::crawl_page(out, url)));
  for (auto& task : tasks) co_await task;
  EXPECT_EQ(out, (Lines{"crawling url_1", "crawling url_2", "crawling url_3", "crawling url_4", "OK url_1",
                        "OK url_2", "OK url_3", "OK url_4"}));
  EXPECT_EQ(aio::get_running_loop().time(), 4.0);
}

AIO_TEST(Seed001, Workers) {  // §2
  Lines out;
  auto task1 = aio::create_task(seed001::worker_1(out));
  auto task2 = aio::create_task(seed001::worker_2(out));
  out.push_back("before await");
  co_await task1;
  out.push_back("awaited worker_1");
  co_await task2;
  out.push_back("awaited worker_2");
  EXPECT_EQ(out, (Lines{"before await", "worker_1 start", "worker_2 start", "worker_1 done", "awaited worker_1",
                        "worker_2 done", "awaited worker_2"}));
  EXPECT_EQ(aio::get_running_loop().time(), 2.0);
}

AIO_TEST(Seed001, GatherReturnExceptions) {  // §3
  auto task_1 = aio::create_task(seed001::worker_1_value());
  auto task_2 = aio::create_task(seed001::worker_2_value());
  auto task_3 = aio::create_task(seed001::worker_3_value());
  co_await aio::sleep(2);
  task_3.cancel();
  std::vector tasks{task_1, task_2, task_3};  // (g++ 12 cannot keep a braced list alive across co_await)
  auto res = co_await aio::gather(aio::return_exceptions, tasks);
  EXPECT_EQ(list_repr(res), "[1, std::domain_error('division by zero'), aio::CancelledError()]");
  // the variadic form gives a tuple of Results; printed one by one it reads the same
  auto tuple = co_await aio::gather(aio::return_exceptions, task_1, task_2, task_3);
  EXPECT_EQ(list_repr(std::vector<std::string>{repr(std::get<0>(tuple)), repr(std::get<1>(tuple)),
                                               repr(std::get<2>(tuple))}),
            "[1, std::domain_error('division by zero'), aio::CancelledError()]");
  EXPECT_EQ(aio::get_running_loop().time(), 2.0);
}

// ---- seed 002 -----------------------------------------------------------------------

namespace seed002 {

aio::Task<std::string> a(Lines& out) {
  out.push_back("Coro a is running");
  co_await aio::sleep(2);
  out.push_back("Coro a is done");
  co_return "A";
}

aio::Task<std::string> b(Lines& out) {
  out.push_back("Coro b is running");
  co_await aio::sleep(1);
  out.push_back("Coro b is done");
  co_return "B";
}

/// §1's second main(): tasks of a() and b() waited for until `when`, then a line for each
/// done task ("Task Task-2 result: A") and each pending one, in aio's (input) order.
aio::Task<aio::WaitResult<std::string>> wait_and_note(Lines& out, aio::ReturnWhen when) {
  std::vector tasks{aio::create_task(a(out)), aio::create_task(b(out))};
  const aio::WaitOptions options{.return_when = when};
  auto result = co_await aio::wait(tasks, options);
  for (auto& task : result.done) out.push_back("Task " + task.get_name() + " result: " + task.result());
  for (auto& task : result.pending) out.push_back("Task " + task.get_name() + " pending");
  co_return result;
}

/// §4: an async decorator — a function taking a coroutine function, giving one back.
template <class F>
auto async_decorator(Lines& out, F func) {
  return [&out, func](auto... args) -> aio::Task<std::string> {
    out.push_back("Starting asynchronous operation...");
    std::string result = co_await func(args...);
    out.push_back("Asynchronous operation completed:  " + result);
    co_return result;
  };
}

/// §3: an async context manager (aenter/aexit) like the @asynccontextmanager of the seed.
struct AsyncManager {
  Lines& out;
  std::string resource = "resource";
  aio::Task<std::string&> aenter() {
    out.push_back("Entering async context");
    co_await aio::sleep(1);
    co_return resource;
  }
  aio::Task<> aexit(std::exception_ptr) {
    co_await aio::sleep(1);
    out.push_back("Exiting async context");
  }
};

}  // namespace seed002

AIO_TEST(Seed002, GatherOfCoroutines) {  // §1, first main()
  Lines out;
  auto [return_value_a, return_value_b] = co_await aio::gather(aio::return_exceptions, seed002::a(out), seed002::b(out));
  out.push_back(repr(return_value_a.value()) + " " + repr(return_value_b.value()));
  EXPECT_EQ(out, (Lines{"Coro a is running", "Coro b is running", "Coro b is done", "Coro a is done", "A B"}));
}

AIO_TEST(Seed002, WaitDonePending) {  // §1, second main()
  Lines out;
  auto [done, pending] = co_await seed002::wait_and_note(out, aio::ALL_COMPLETED);
  EXPECT_TRUE(pending.empty());
  // asyncio's `done` is a set (any order); aio keeps the input order, so the lines are fixed
  EXPECT_EQ(out, (Lines{"Coro a is running", "Coro b is running", "Coro b is done", "Coro a is done",
                        "Task Task-2 result: A", "Task Task-3 result: B"}));
}

AIO_TEST(Seed002, WaitFirstCompleted) {
  Lines out;
  auto [done, pending] = co_await seed002::wait_and_note(out, aio::FIRST_COMPLETED);
  EXPECT_EQ(out, (Lines{"Coro a is running", "Coro b is running", "Coro b is done", "Task Task-3 result: B",
                        "Task Task-2 pending"}));
  co_await pending[0];  // task1
}

AIO_TEST(Seed002, CreateTaskThenAwait) {  // §1, third and fourth main()
  Lines out;
  auto task1 = aio::create_task(seed002::a(out));
  auto task2 = aio::ensure_future(seed002::b(out));
  co_await task1;
  co_await task2;
  EXPECT_EQ(out, (Lines{"Coro a is running", "Coro b is running", "Coro b is done", "Coro a is done"}));
}

AIO_TEST(Seed002, CancelBeforeItRuns) {  // §1, fifth main()
  Lines out;
  auto& loop = aio::get_event_loop();
  auto task1 = loop.create_task(seed002::a(out));
  auto task2 = loop.create_task(seed002::b(out));
  task2.cancel();
  co_await task1;
  EXPECT_EQ(out, (Lines{"Coro a is running", "Coro a is done"}));
  EXPECT_TRUE(task2.cancelled());
}

AIO_TEST(Seed002, ShieldKeepsTheWorkRunning) {  // §1, sixth main()
  Lines out;
  auto& loop = aio::get_event_loop();
  auto task1 = loop.create_task(seed002::a(out));
  auto task2 = aio::shield(seed002::b(out));
  task2.cancel();
  co_await task1;
  EXPECT_TRUE(task2.cancelled());
  EXPECT_EQ(out, (Lines{"Coro a is running", "Coro b is running", "Coro b is done", "Coro a is done"}));
}

AIO_TEST(Seed002, AsyncContextManager) {  // §3
  Lines out;
  seed002::AsyncManager manager{out};
  co_await aio::with(manager, [&](std::string& resource) -> aio::Task<> {
    out.push_back("Inside async context: " + resource);
    co_return;
  });
  EXPECT_EQ(out, (Lines{"Entering async context", "Inside async context: resource", "Exiting async context"}));
}

AIO_TEST(Seed002, AsyncDecorator) {  // §4
  Lines out;
  auto my_function = seed002::async_decorator(out, [&out]() -> aio::Task<std::string> {
    co_await aio::sleep(1);
    out.push_back("my_function completed.");
    co_return "Hello, world!";
  });
  co_await my_function();
  EXPECT_EQ(out, (Lines{"Starting asynchronous operation...", "my_function completed.",
                        "Asynchronous operation completed:  Hello, world!"}));
}

AIO_TEST(Seed002, DoneCallbackWithABoundArgument) {  // §5
  Lines out;
  auto callback = [&out](aio::TaskHandle<std::string>& future, int n) {
    out.push_back("Result: " + future.result() + ", " + std::to_string(n));
  };
  auto task = aio::create_task([]() -> aio::Task<std::string> {
    co_await aio::sleep(1);
    co_return "A";
  }());
  task.add_done_callback([callback](aio::TaskHandle<std::string>& f) { callback(f, 1); });  // partial(callback, n=1)
  co_await task;
  EXPECT_EQ(out, Lines{"Result: A, 1"});
}

// ---- seed 004 (old-style API: get_event_loop, create_task/ensure_future, run_until_complete) ----

namespace seed004 {

aio::Task<int> execute(Lines& out, int x) {
  out.push_back("Number: " + std::to_string(x));
  co_return x;
}

aio::Task<int> request() {
  co_await aio::sleep(0.001);  // the seed's requests.get(), 1 ms of real time
  co_return 200;
}

/// The seed's journal of a task, made by `make_task(coroutine)`, that the thread's loop runs.
template <class MakeTask>
Lines repr_before_and_after(MakeTask make_task) {
  Lines out;
  auto coroutine = execute(out, 1);
  out.push_back("After calling execute");
  auto task = make_task(std::move(coroutine));
  out.push_back("Task: " + repr(task));
  auto& loop = aio::get_event_loop();
  loop.run_until_complete(task);
  out.push_back("Task: " + repr(task));
  out.push_back("After calling loop");
  loop.close();
  return out;
}

const Lines kReprJournal{"After calling execute", "Task: <Task pending name='Task-1'>", "Number: 1",
                         "Task: <Task finished name='Task-1' result=1>", "After calling loop"};

}  // namespace seed004

TEST(Seed004, RunUntilCompleteOfACoroutine) {
  aio_test::on_fresh_thread([] {
    Lines out;
    auto coroutine = seed004::execute(out, 1);
    out.push_back("After calling execute");
    auto& loop = aio::get_event_loop();
    loop.run_until_complete(std::move(coroutine));
    out.push_back("After calling loop");
    EXPECT_EQ(out, (Lines{"After calling execute", "Number: 1", "After calling loop"}));
    loop.close();
  });
}

TEST(Seed004, TaskReprBeforeAndAfter) {
  aio_test::on_fresh_thread([] {
    auto out = seed004::repr_before_and_after(
        [](aio::Task<int> coroutine) { return aio::get_event_loop().create_task(std::move(coroutine)); });
    EXPECT_EQ(out, seed004::kReprJournal);
  });
}

TEST(Seed004, EnsureFutureBeforeTheLoopIsTakenOut) {
  aio_test::on_fresh_thread([] {
    // no loop yet: ensure_future makes the thread's loop
    auto out = seed004::repr_before_and_after(
        [](aio::Task<int> coroutine) { return aio::ensure_future(std::move(coroutine)); });
    EXPECT_EQ(out, seed004::kReprJournal);
  });
}

TEST(Seed004, DoneCallback) {
  aio_test::on_fresh_thread([] {
    Lines out;
    auto task = aio::ensure_future(seed004::request());
    task.add_done_callback([&](aio::TaskHandle<int>& t) { out.push_back("Status: " + std::to_string(t.result())); });
    out.push_back("Task: " + repr(task));
    auto& loop = aio::get_event_loop();
    loop.run_until_complete(task);
    out.push_back("Task: " + repr(task));
    out.push_back("Task Result: " + std::to_string(task.result()));
    EXPECT_EQ(out, (Lines{"Task: <Task pending name='Task-1'>", "Status: 200",
                          "Task: <Task finished name='Task-1' result=200>", "Task Result: 200"}));
    loop.close();
  });
}

TEST(Seed004, RunUntilCompleteOfWait) {
  aio_test::on_fresh_thread([] {
    Lines out;
    std::vector<aio::TaskHandle<int>> tasks;
    for (int i = 0; i < 5; ++i) tasks.push_back(aio::ensure_future(seed004::request()));
    out.push_back("Tasks: " + list_repr(tasks));
    auto& loop = aio::get_event_loop();
    loop.run_until_complete(aio::wait(tasks));
    for (auto& task : tasks) out.push_back("Task Result: " + std::to_string(task.result()));
    EXPECT_EQ(out, (Lines{"Tasks: [<Task pending name='Task-1'>, <Task pending name='Task-2'>, "
                          "<Task pending name='Task-3'>, <Task pending name='Task-4'>, <Task pending name='Task-5'>]",
                          "Task Result: 200", "Task Result: 200", "Task Result: 200", "Task Result: 200",
                          "Task Result: 200"}));
    loop.close();
  });
}

// ---- seed 000 -------------------------------------------------------------------------

namespace seed000 {

aio::Task<> func(Lines& out, int first, int second) {
  out.push_back(std::to_string(first));
  co_await aio::sleep(0.002);  // the seed's 2 s, in milliseconds of real time
  out.push_back(std::to_string(second));
}

aio::Task<std::string> others(Lines& out) {
  out.push_back("start");
  co_await aio::sleep(2);
  out.push_back("end");
  co_return "返回值";
}

}  // namespace seed000

TEST(Seed000, EnsureFutureAndWaitOldStyle) {
  aio_test::on_fresh_thread([] {
    Lines out;
    std::vector<aio::TaskHandle<>> tasks{aio::ensure_future(seed000::func(out, 1, 2)),
                                         aio::ensure_future(seed000::func(out, 3, 4))};
    auto& loop = aio::get_event_loop();
    loop.run_until_complete(aio::wait(tasks));
    EXPECT_EQ(out, (Lines{"1", "3", "2", "4"}));
    loop.close();
  });
}

AIO_TEST(Seed000, SeveralAwaitsInOneCoroutine) {  // 示例3
  Lines out;
  out.push_back("执行协程函数内部代码");
  auto response1 = co_await seed000::others(out);
  out.push_back("IO请求结束，结果为： " + response1);
  auto response2 = co_await seed000::others(out);
  out.push_back("IO请求结束，结果为： " + response2);
  EXPECT_EQ(out, (Lines{"执行协程函数内部代码", "start", "end", "IO请求结束，结果为： 返回值", "start", "end",
                        "IO请求结束，结果为： 返回值"}));
}
