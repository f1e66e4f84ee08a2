// Seed 002 §5: a done callback with a bound argument (functools.partial(callback, n=1)).
// Prints "Result: A, 1".
#include <aio/aio.hpp>

#include <functional>
#include <iostream>
#include <string>

void callback(aio::TaskHandle<std::string>& future, int n) {
  std::cout << "Result: " << future.result() << ", " << n << std::endl;
}

aio::Task<std::string> a() {
  co_await aio::sleep(0.1);
  co_return "A";
}

aio::Task<> amain() {
  auto task = aio::create_task(a());
  task.add_done_callback(std::bind(callback, std::placeholders::_1, 1));
  co_await task;
}

int main() { aio::run(amain()); }
