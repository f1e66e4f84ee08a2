// Seed 004: five blocking requests.get calls offloaded with aio::to_thread overlap.
// Prints five "Waiting for", five "Get response from", then "Cost time: 0.10..." (not 0.5).
#include <iostream>

#include "to_thread_requests.hpp"

int main() { aio::run(to_thread_requests::amain(std::cout)); }
