// Seed 001 §1: crawl_page with simulated latencies — url_N takes N x 100 ms.
// First one page after another (await each coroutine: ~1000 ms), then one task
// per page (create_task, then await the tasks: ~400 ms, the longest single page).
#include <aio/aio.hpp>

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

using namespace std::chrono_literals;

// The url is taken by value: the coroutine frame keeps its own copy.
aio::Task<> crawl_page(std::string url) {
  std::cout << "crawling " << url << std::endl;
  int sleep_time = std::stoi(url.substr(url.rfind('_') + 1));
  co_await aio::sleep(sleep_time * 100ms);
  std::cout << "OK " << url << std::endl;
}

// await is a plain call: each page starts after the previous one ends.
aio::Task<> main_sequential(std::vector<std::string> urls) {
  for (const auto& url : urls) co_await crawl_page(url);
}

// create_task schedules every page at once; then we only wait for them.
aio::Task<> main_tasks(std::vector<std::string> urls) {
  std::vector<aio::TaskHandle<>> tasks;
  for (const auto& url : urls) tasks.push_back(aio::create_task(crawl_page(url)));
  for (auto& task : tasks) co_await task;
}

template <class F>
void timed(F&& body) {
  auto start = std::chrono::steady_clock::now();
  body();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  std::cout << "Wall time: " << ms.count() << " ms" << std::endl;
}

int main() {
  const std::vector<std::string> urls{"url_1", "url_2", "url_3", "url_4"};

  std::cout << "== one after another ==" << std::endl;
  timed([&] { aio::run(main_sequential(urls)); });

  std::cout << "\n== with tasks ==" << std::endl;
  timed([&] { aio::run(main_tasks(urls)); });
}
