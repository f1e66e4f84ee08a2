// Seed 001 §2: two tasks, and the order in which their lines come out.
//   before await / worker_1 start / worker_2 start / worker_1 done /
//   awaited worker_1 / worker_2 done / awaited worker_2      (~200 ms)
#include <aio/aio.hpp>

#include <chrono>
#include <iostream>

aio::Task<> worker_1() {
  std::cout << "worker_1 start" << std::endl;
  co_await aio::sleep(0.1);
  std::cout << "worker_1 done" << std::endl;
}

aio::Task<> worker_2() {
  std::cout << "worker_2 start" << std::endl;
  co_await aio::sleep(0.2);
  std::cout << "worker_2 done" << std::endl;
}

aio::Task<> amain() {
  auto task1 = aio::create_task(worker_1());
  auto task2 = aio::create_task(worker_2());
  std::cout << "before await" << std::endl;
  co_await task1;
  std::cout << "awaited worker_1" << std::endl;
  co_await task2;
  std::cout << "awaited worker_2" << std::endl;
}

int main() {
  auto start = std::chrono::steady_clock::now();
  aio::run(amain());
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  std::cout << "Wall time: " << ms.count() << " ms" << std::endl;
}
