// Seed 001 §4: asyncio.Queue producer/consumer. Prints 20 lines in about 0.5 s.
#include <iostream>

#include "producer_consumer_queue.hpp"

int main() { aio::run(producer_consumer_queue::amain(std::cout)); }
