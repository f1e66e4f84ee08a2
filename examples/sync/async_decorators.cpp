// Seed 002 §4: an async decorator, then one with arguments.
#include <iostream>

#include "async_decorators.hpp"

int main() {
  aio::run(async_decorators::decorated(std::cout));
  aio::run(async_decorators::decorated_with_args(std::cout));
}
