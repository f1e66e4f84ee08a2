// aio's synchronisation primitives, generators and async generators (api.md §3, §4).
#pragma once
#include "sync/async_generator.hpp"
#include "sync/barrier.hpp"
#include "sync/condition.hpp"
#include "sync/coroutine.hpp"
#include "sync/errors.hpp"
#include "sync/event.hpp"
#include "sync/generator.hpp"
#include "sync/lock.hpp"
#include "sync/queue.hpp"
#include "sync/semaphore.hpp"
