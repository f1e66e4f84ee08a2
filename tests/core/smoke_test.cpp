#include <aio/testing.hpp>

aio::Task<int> add(int a, int b) {
  co_await aio::sleep(0);
  co_return a + b;
}

AIO_TEST(Smoke, AwaitInline) { EXPECT_EQ(co_await add(1, 2), 3); }

AIO_TEST(Smoke, GatherTasks) {
  auto [a, b] = co_await aio::gather(add(1, 2), add(3, 4));
  EXPECT_EQ(a + b, 10);
}
