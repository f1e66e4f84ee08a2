// Seed 004: `async def get(url): return requests.get(url)` still blocks the loop — five
// requests take five times as long. aio::to_thread runs the blocking call on a thread, so
// the five overlap and take about as long as one (0.1 s here).
#pragma once
#include <aio/aio.hpp>

#include <chrono>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

namespace to_thread_requests {

/// Stands in for requests.get(url).text against the seed's local Flask server, which
/// answers "Hello!" after a delay.
inline std::string requests_get(std::string url) {
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return url.empty() ? "" : "Hello!";
}

inline aio::Task<std::string> request(std::string url, std::ostream& out) {
  out << "Waiting for " << url << '\n';
  co_return co_await aio::to_thread(requests_get, url);
}

inline aio::Task<> amain(std::ostream& out) {
  const std::string url = "http://127.0.0.1:5000";
  auto start = std::chrono::steady_clock::now();
  std::vector<aio::TaskHandle<std::string>> tasks;
  for (int i = 0; i < 5; ++i) tasks.push_back(aio::create_task(request(url, out)));
  std::vector<std::string> texts = co_await aio::gather(tasks);
  for (const auto& text : texts) out << "Get response from " << url << " Result: " << text << '\n';
  std::chrono::duration<double> cost = std::chrono::steady_clock::now() - start;
  out << "Cost time: " << cost.count() << '\n';
}

}  // namespace to_thread_requests
