// The smallest aio program a user writes: run, create_task, gather, sleep.
// scripts/test.sh builds it against aio twice and compares its output.
#include <aio/aio.hpp>

#include <iostream>
#include <vector>

aio::Task<int> square(int x) {
  co_await aio::sleep(0.001 * (6 - x));  // finish in reverse order; gather keeps input order
  co_return x * x;
}

aio::Task<int> amain() {
  std::vector<aio::TaskHandle<int>> tasks;
  for (int x = 1; x <= 3; ++x) tasks.push_back(aio::create_task(square(x)));
  std::vector<int> squares = co_await aio::gather(tasks);
  auto [four, five] = co_await aio::gather(square(4), square(5));
  int sum = four + five;
  std::cout << "squares";
  for (int s : squares) {
    std::cout << ' ' << s;
    sum += s;
  }
  std::cout << "\npair " << four << ' ' << five << std::endl;
  co_return sum;
}

int main() {
  int sum = aio::run(amain());
  std::cout << "sum " << sum << std::endl;
  return sum == 55 ? 0 : 1;
}
