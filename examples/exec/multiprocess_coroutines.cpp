// Seed 002 §7: 4 worker processes, each an event loop running 100 coroutines behind a
// Semaphore(10). Prints one line per process, the total, then the elapsed seconds (~0.1).
#include <iostream>

#include "multiprocess_coroutines.hpp"

int main() { aio::run(multiprocess_coroutines::amain(std::cout)); }
