// Seed 003: run_in_executor with the default executor, a custom thread pool, a custom process
// pool, and a blocking requests.get-like call. Prints four lines.
#include <iostream>

#include "executor_kinds.hpp"

int main() { aio::run(executor_kinds::amain(std::cout)); }
