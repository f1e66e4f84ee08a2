// Seed 003: where loop.run_in_executor can send a blocking function — the loop's default
// executor (None), a custom ThreadPoolExecutor, a custom ProcessPoolExecutor — and a
// blocking third-party call (requests.get, simulated here) kept off the loop.
#pragma once
#include <aio/aio.hpp>
#include <unistd.h>

#include <chrono>
#include <ostream>
#include <string>
#include <thread>

namespace executor_kinds {

/// A blocking function; says where it ran. A plain function, so a worker process can run
/// it too (see aio/exec/process_pool.hpp for what may cross).
inline std::string func1(int parent_pid) {
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return ::getpid() == parent_pid ? "func1 ran in a worker thread" : "func1 ran in a worker process";
}

/// Stands in for requests.get(url): blocks, then returns the page.
inline std::string requests_get(std::string url) {
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return "<html>" + url + "</html>";
}

inline aio::Task<> amain(std::ostream& out) {
  aio::EventLoop& loop = aio::get_running_loop();
  const int pid = static_cast<int>(::getpid());

  // 1. Run in the loop's default executor (a ThreadPoolExecutor made on first use).
  aio::Future<std::string> fut = loop.run_in_executor(nullptr, func1, pid);
  out << "default executor: " << co_await fut << '\n';

  // 2. Run in a custom thread pool.
  {
    aio::ThreadPoolExecutor pool;
    out << "custom thread pool: " << co_await loop.run_in_executor(&pool, func1, pid) << '\n';
  }

  // 3. Run in a custom process pool.
  {
    aio::ProcessPoolExecutor pool;
    out << "custom process pool: " << co_await loop.run_in_executor(&pool, func1, pid) << '\n';
  }

  // 4. A third-party module without async support.
  std::string page = co_await loop.run_in_executor(nullptr, requests_get, std::string("http://127.0.0.1:5000/"));
  out << "requests.get: " << page << '\n';
}

}  // namespace executor_kinds
