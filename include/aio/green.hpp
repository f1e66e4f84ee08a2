// aio::green: stackful coroutines (greenlets), see api.md §6.
#pragma once

#include "aio/green/greenlet.hpp"
#include "aio/green/spawn.hpp"
