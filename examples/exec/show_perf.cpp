// Seed 002 §6: show_perf(c1) — a blocking call in the executor overlaps a sleep.
// Prints 20 stars, then "c1 Cost: 0.10..." (about 0.1 s, not 0.2 s).
#include <iostream>

#include "show_perf.hpp"

int main() { show_perf::main(std::cout); }
