// gevent's classic: three "downloads" written as plain blocking-looking functions run
// concurrently on one thread, because green::await_ lets the loop run the others meanwhile.
//
//   import gevent
//   def download(url, secs):
//       print("start", url); gevent.sleep(secs); print("done ", url); return len(url) * 100
//   jobs = [gevent.spawn(download, u, s) for u, s in PAGES]
//   gevent.joinall(jobs); print([j.value for j in jobs])
//
// The lines are printed in a fixed order (the starts in spawn order, the ends by duration); only
// the last line, the elapsed time (~0.3 s, not the 0.6 s of one download after another), varies.
#include <aio/aio.hpp>
#include <aio/green.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace {

struct Page {
  std::string url;
  double seconds;  // simulated network latency
};

// Synchronous-looking: no co_await, no callbacks; await_ only yields this green task.
std::size_t download(const Page& page) {
  std::printf("start %s\n", page.url.c_str());
  aio::green::await_(aio::sleep(page.seconds));  // gevent.sleep / a blocking socket read
  std::printf("done  %s (%.1f s)\n", page.url.c_str(), page.seconds);
  return page.url.size() * 100;
}

}  // namespace

int main() {
  const std::vector<Page> pages = {
      {"https://example.com/a", 0.3},
      {"https://example.com/bb", 0.1},
      {"https://example.com/ccc", 0.2},
  };
  auto started = std::chrono::steady_clock::now();
  // The main function is green too, so it can "block" on the jobs (gevent.joinall).
  auto sizes = aio::run(aio::green::task([&] {
    std::vector<aio::TaskHandle<std::size_t>> jobs;
    for (const Page& page : pages) jobs.push_back(aio::green::spawn([&page] { return download(page); }));
    return aio::green::await_(aio::gather(std::move(jobs)));
  }));
  std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
  std::printf("sizes:");
  for (std::size_t n : sizes) std::printf(" %zu", n);
  std::printf("\n");
  std::printf("elapsed %.2f s (one after another: 0.60 s)\n", elapsed.count());
  return 0;
}
