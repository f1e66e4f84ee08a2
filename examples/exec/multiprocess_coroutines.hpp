// Seed 002 §7 ("multi-process + coroutines"): 400 page fetches split over 4 worker processes,
// each running its own event loop with 100 coroutines, at most 10 fetching at once
// (asyncio.Semaphore(10)). The fetch is simulated locally (10 ms) instead of aiohttp against
// www.baidu.com, so the example runs offline: each process needs 10 rounds of 10 ms.
#pragma once
#include <aio/aio.hpp>

#include <chrono>
#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

namespace multiprocess_coroutines {

/// async def get_html(url, sem): async with sem: ... html = await resp.text()
inline aio::Task<std::size_t> get_html(std::string url, aio::Semaphore& sem) {
  auto held = co_await sem.hold();
  co_await aio::sleep(0.01);  // the simulated network round trip
  std::string html = "<html>" + url + "</html>";
  co_return html.size();
}

/// def main(urls): runs in a worker process — a loop of its own, as in the seed.
inline int main_in_process(std::vector<std::string> urls) {
  aio::EventLoop loop;  // loop = asyncio.get_event_loop()
  aio::set_event_loop(loop);
  aio::Semaphore sem(10);  // at most 10 fetches at once
  std::vector<aio::TaskHandle<std::size_t>> tasks;
  for (auto& url : urls) tasks.push_back(loop.create_task(get_html(url, sem)));
  loop.run_until_complete(aio::wait(tasks));  // loop.run_until_complete(asyncio.wait(tasks))
  int fetched = 0;
  for (auto& t : tasks) fetched += t.result() > 0;
  loop.close();
  return fetched;
}

inline aio::Task<> amain(std::ostream& out) {
  std::vector<std::string> all_urls(400, "https://www.baidu.com");
  auto start = std::chrono::steady_clock::now();
  aio::ProcessPoolExecutor p(4);  // p = Pool(4)
  std::vector<aio::Future<int>> results;
  for (int i = 0; i < 4; ++i) {  // p.apply_async(main, args=(all_urls[i*100:(i+1)*100],))
    std::vector<std::string> part(all_urls.begin() + i * 100, all_urls.begin() + (i + 1) * 100);
    results.push_back(p.submit(main_in_process, part));
  }
  int total = 0;
  for (int i = 0; i < 4; ++i) {
    int fetched = co_await results[i];
    out << "process " << i << ": " << fetched << " pages\n";
    total += fetched;
  }
  p.shutdown();  // p.close(); p.join()
  std::chrono::duration<double> cost = std::chrono::steady_clock::now() - start;
  out << "total: " << total << " pages\n";
  out << cost.count() << '\n';  // print(time.time() - start)
}

}  // namespace multiprocess_coroutines
