// Seed 003: a class with __aenter__/__aexit__ under `async with`.
#include <iostream>

#include "async_context_class.hpp"

int main() { aio::run(async_context_class::func(std::cout)); }
