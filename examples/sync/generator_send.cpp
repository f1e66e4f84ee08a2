// Seed 002 §2: producer/consumer through send(), then grep.
#include <iostream>

#include "generator_send.hpp"

int main() {
  generator_send::producer_consumer(std::cout);
  generator_send::grep_demo(std::cout);
}
