// The sync examples (examples/sync/*.hpp, the seeds' programs in aio), compared line by
// line with what the seeds print; sleeps run on the virtual clock, so the elapsed time is
// checked exactly too.
#include <sstream>
#include <string>
#include <vector>

#include "sync/async_context_class.hpp"
#include "sync/async_context_manager.hpp"
#include "sync/async_decorators.hpp"
#include "sync/async_reader.hpp"
#include "sync/generator_send.hpp"
#include "sync/producer_consumer_queue.hpp"
#include "../output_lines.hpp"
#include "sync_helpers.hpp"

using Lines = std::vector<std::string>;
using test_util::lines_of;

AIO_TEST(SyncExamples, ProducerConsumerQueue) {  // seed 001 §4
  std::ostringstream out;
  co_await producer_consumer_queue::amain(out, 2024);
  // mt19937(2024) % 10 + 1, in draw order: producer_1 and producer_2 alternate.
  const int vals[] = {3, 1, 5, 1, 4, 1, 1, 2, 4, 10};
  Lines expected;
  for (int round = 0; round < 5; ++round) {
    int v1 = vals[2 * round], v2 = vals[2 * round + 1];
    expected.push_back("producer_1 put a val: " + std::to_string(v1));
    expected.push_back("producer_2 put a val: " + std::to_string(v2));
    expected.push_back("consumer_1 get a val: " + std::to_string(v1));
    expected.push_back("consumer_2 get a val: " + std::to_string(v2));
  }
  EXPECT_EQ(lines_of(out), expected);
  EXPECT_NEAR(aio::get_running_loop().time(), 0.5, 1e-9);  // "Wall time: 10 s" at full scale
}

TEST(SyncExamples, GeneratorSendProducerConsumer) {  // seed 002 §2 #1
  std::ostringstream out;
  generator_send::producer_consumer(out);
  Lines expected;
  for (int n = 1; n <= 5; ++n) {
    expected.push_back("[PRODUCER] Producing " + std::to_string(n) + "...");
    expected.push_back("[CONSUMER] Consuming " + std::to_string(n) + "...");
    expected.push_back("[PRODUCER] Consumer return: OK");
  }
  EXPECT_EQ(lines_of(out), expected);
}

TEST(SyncExamples, GeneratorSendGrep) {  // seed 002 §2 #2
  std::ostringstream out;
  generator_send::grep_demo(out);
  EXPECT_EQ(lines_of(out), Lines{"I love coroutine instead!"});
}

AIO_TEST(SyncExamples, AsyncContextManager) {  // seed 002 §3
  std::ostringstream out;
  co_await async_context_manager::amain(out);
  EXPECT_EQ(lines_of(out), (Lines{"Entering async context", "Inside async context: resource", "Exiting async context"}));
  EXPECT_NEAR(aio::get_running_loop().time(), 0.2, 1e-9);
}

AIO_TEST(SyncExamples, AsyncDecorator) {  // seed 002 §4, first program
  std::ostringstream out;
  EXPECT_EQ(co_await async_decorators::decorated(out), "Hello, world!");
  EXPECT_EQ(lines_of(out), (Lines{"Starting asynchronous operation...", "my_function completed.",
                                  "Asynchronous operation completed:  Hello, world!"}));
}

AIO_TEST(SyncExamples, AsyncDecoratorWithArguments) {  // seed 002 §4, second program
  std::ostringstream out;
  EXPECT_EQ(co_await async_decorators::decorated_with_args(out), "Hello, world!");
  EXPECT_EQ(lines_of(out), (Lines{"Starting asynchronous operation with Parameter 1 and Parameter 2...",
                                  "my_function completed.", "Asynchronous operation completed:  Hello, world!"}));
}

AIO_TEST(SyncExamples, DecoratorWrapsAnyTaskReturningCallable) {
  std::ostringstream out;
  auto add = async_decorators::async_decorator(out, [](int a, int b) -> aio::Task<int> {
    co_await aio::sleep(0.1);
    co_return a + b;
  });
  EXPECT_EQ(co_await add(2, 3), 5);
  EXPECT_EQ(lines_of(out), (Lines{"Starting asynchronous operation...", "Asynchronous operation completed:  5"}));
}

AIO_TEST(SyncExamples, AsyncReader) {  // seed 003: async iterator
  std::ostringstream out;
  co_await async_reader::func(out);
  EXPECT_EQ(lines_of(out), (Lines{"line 1", "line 2", "line 3", "generated 1", "generated 2"}));
}

AIO_TEST(SyncExamples, AsyncContextManagerClass) {  // seed 003: __aenter__/__aexit__
  std::ostringstream out;
  co_await async_context_class::func(out);
  EXPECT_EQ(lines_of(out), Lines{"666"});
  EXPECT_NEAR(aio::get_running_loop().time(), 0.2, 1e-9);
}
