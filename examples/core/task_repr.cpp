// Seed 004: the old-style loop API (get_event_loop, create_task, ensure_future,
// run_until_complete, close), a task's repr before and after it runs, a done
// callback, and wait() over five tasks.
#include <aio/aio.hpp>

#include <chrono>
#include <iostream>
#include <ostream>
#include <vector>

aio::Task<int> execute(int x) {
  std::cout << "Number: " << x << std::endl;
  co_return x;
}

// Stands in for requests' Response, printed as Python prints it.
struct Response {
  int status = 200;
  friend std::ostream& operator<<(std::ostream& os, const Response& r) {
    return os << "<Response [" << r.status << "]>";
  }
};

aio::Task<Response> request() {
  co_await aio::sleep(0.01);
  co_return Response{200};
}

void callback(aio::TaskHandle<Response>& task) { std::cout << "Status: " << task.result() << std::endl; }

// The slow server of the seed, 300 ms per request, awaited without blocking the loop.
aio::Task<> slow_request() {
  std::cout << "Waiting for http://127.0.0.1:5000" << std::endl;
  co_await aio::sleep(0.3);
  std::cout << "Get response from http://127.0.0.1:5000 Result: Hello!" << std::endl;
}

template <class H>
void print_list(const char* label, const std::vector<H>& tasks) {
  std::cout << label << " [";
  for (std::size_t i = 0; i < tasks.size(); ++i) std::cout << (i ? ", " : "") << tasks[i];
  std::cout << ']' << std::endl;
}

int main() {
  {
    std::cout << "== loop.create_task ==" << std::endl;
    auto coroutine = execute(1);  // lazy: nothing printed yet
    std::cout << "After calling execute" << std::endl;
    auto& loop = aio::get_event_loop();
    auto task = loop.create_task(std::move(coroutine));
    std::cout << "Task: " << task << std::endl;
    loop.run_until_complete(task);
    std::cout << "Task: " << task << std::endl;
    std::cout << "After calling loop" << std::endl;
  }
  {
    std::cout << "== ensure_future ==" << std::endl;
    auto coroutine = execute(1);
    std::cout << "After calling execute" << std::endl;
    auto task = aio::ensure_future(std::move(coroutine));  // scheduled on this thread's loop
    std::cout << "Task: " << task << std::endl;
    auto& loop = aio::get_event_loop();
    loop.run_until_complete(task);
    std::cout << "Task: " << task << std::endl;
    std::cout << "After calling loop" << std::endl;
  }
  {
    std::cout << "== add_done_callback ==" << std::endl;
    auto task = aio::ensure_future(request());
    task.add_done_callback(callback);
    std::cout << "Task: " << task << std::endl;
    aio::get_event_loop().run_until_complete(task);
    std::cout << "Task: " << task << std::endl;
    std::cout << "Task Result: " << task.result() << std::endl;
  }
  {
    std::cout << "== wait ==" << std::endl;
    std::vector<aio::TaskHandle<Response>> tasks;
    for (int i = 0; i < 5; ++i) tasks.push_back(aio::ensure_future(request()));
    print_list("Tasks:", tasks);
    aio::get_event_loop().run_until_complete(aio::wait(tasks));
    for (auto& task : tasks) std::cout << "Task Result: " << task.result() << std::endl;
  }
  {
    std::cout << "== five slow requests at once ==" << std::endl;
    auto start = std::chrono::steady_clock::now();
    std::vector<aio::TaskHandle<>> tasks;
    for (int i = 0; i < 5; ++i) tasks.push_back(aio::ensure_future(slow_request()));
    aio::get_event_loop().run_until_complete(aio::wait(tasks));
    std::chrono::duration<double> cost = std::chrono::steady_clock::now() - start;
    std::cout << "Cost time: " << cost.count() << std::endl;
  }
  aio::get_event_loop().close();
}
