// Seed 003: async iterator (`async for`).
#include <iostream>

#include "async_reader.hpp"

int main() { aio::run(async_reader::func(std::cout)); }
