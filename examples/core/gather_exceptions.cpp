// Seed 001 §3: gather(return_exceptions=True) over a result, an error and a cancelled task.
// Python prints [1, ZeroDivisionError('division by zero'), CancelledError()]; here
// std::domain_error stands for ZeroDivisionError and each item prints as an aio::Result.
#include <aio/aio.hpp>

#include <iostream>
#include <stdexcept>

aio::Task<int> worker_1() {
  co_await aio::sleep(0.1);
  co_return 1;
}

aio::Task<int> worker_2() {
  co_await aio::sleep(0.2);
  throw std::domain_error("division by zero");  // return 2 / 0
}

aio::Task<int> worker_3() {
  co_await aio::sleep(0.3);
  co_return 3;
}

aio::Task<> amain() {
  auto task_1 = aio::create_task(worker_1());
  auto task_2 = aio::create_task(worker_2());
  auto task_3 = aio::create_task(worker_3());

  co_await aio::sleep(0.2);
  task_3.cancel();

  auto [r1, r2, r3] = co_await aio::gather(aio::return_exceptions, task_1, task_2, task_3);
  std::cout << '[' << r1 << ", " << r2 << ", " << r3 << ']' << std::endl;
}

int main() { aio::run(amain()); }
