// Module exec: executors, threads, processes and many loops (asyncio's run_in_executor,
// to_thread, wrap_future, run_coroutine_threadsafe; concurrent.futures' pools). Included
// by <aio/aio.hpp>; link aio::exec.
#pragma once
#include "exec/errors.hpp"
#include "exec/parallel.hpp"
#include "exec/process_pool.hpp"
#include "exec/run_in_executor.hpp"
#include "exec/thread_pool.hpp"
#include "exec/threadsafe.hpp"
#include "exec/to_thread.hpp"
#include "exec/wire.hpp"
