// Seed 001 §4: producers and consumers around an aio::Queue. Two producers put five random
// values each (1 s apart in the seed, 0.1 s here), two consumers get them; after 0.5 s main
// cancels the consumers and gathers everyone with return_exceptions.
#pragma once
#include <aio/aio.hpp>

#include <cstdint>
#include <ostream>
#include <random>
#include <string>

namespace producer_consumer_queue {

inline aio::Task<> consumer(aio::Queue<int>& queue, std::string id, std::ostream& out) {
  for (;;) {
    int val = co_await queue.get();
    out << id << " get a val: " << val << '\n';
    co_await aio::sleep(0.1);
  }
}

inline aio::Task<> producer(aio::Queue<int>& queue, std::string id, std::mt19937& rng, std::ostream& out) {
  for (int i = 0; i < 5; ++i) {
    int val = static_cast<int>(rng() % 10) + 1;  // random.randint(1, 10)
    co_await queue.put(val);
    out << id << " put a val: " << val << '\n';
    co_await aio::sleep(0.1);
  }
}

/// The seed's main(); `seed` makes the "random" values reproducible.
inline aio::Task<> amain(std::ostream& out, std::uint32_t seed = 2024) {
  std::mt19937 rng(seed);
  aio::Queue<int> queue;
  auto consumer_1 = aio::create_task(consumer(queue, "consumer_1", out));
  auto consumer_2 = aio::create_task(consumer(queue, "consumer_2", out));
  auto producer_1 = aio::create_task(producer(queue, "producer_1", rng, out));
  auto producer_2 = aio::create_task(producer(queue, "producer_2", rng, out));
  co_await aio::sleep(0.5);
  consumer_1.cancel();
  consumer_2.cancel();
  co_await aio::gather(aio::return_exceptions, consumer_1, consumer_2, producer_1, producer_2);
}

}  // namespace producer_consumer_queue
