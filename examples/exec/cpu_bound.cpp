// Seed 001 §9: sum of squares of 10,000,000 + x, x < 10, serially and then with a process
// pool. `cpu_bound N` uses N + x instead (the seed's multiprocessing run used 10000).
#include <cstdlib>
#include <iostream>

#include "cpu_bound.hpp"

int main(int argc, char** argv) { cpu_bound::main(std::cout, argc > 1 ? std::atol(argv[1]) : 10000000); }
