// Seed 002 §3: @asynccontextmanager.
#include <iostream>

#include "async_context_manager.hpp"

int main() { aio::run(async_context_manager::amain(std::cout)); }
