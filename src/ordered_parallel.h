// Runs work(i) for i in [0, n) on `threads` threads and hands each result to commit(i, result) in
// index order, on one thread at a time, so outputs (printed lines, appended features) do not depend
// on the number of threads. At most `window` results wait for an earlier index, bounding memory.
// An exception thrown by work() or commit() stops the run and is rethrown on the calling thread.
#pragma once
#include <algorithm>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace slid {

template <typename Result, typename Work, typename Commit>
void OrderedParallel(size_t n, int threads, Work work, Commit commit, size_t window = 0) {
  threads = std::max(1, threads);
  if (window == 0) window = 4 * static_cast<size_t>(threads);
  if (threads == 1) {
    for (size_t i = 0; i < n; ++i) commit(i, work(i));
    return;
  }
  std::mutex mu;
  std::condition_variable cv;
  size_t next = 0, committed = 0;
  bool committing = false;
  std::map<size_t, Result> ready;
  std::exception_ptr error;
  auto worker = [&]() {
    for (;;) {
      size_t i;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return error || next >= n || next < committed + window; });
        if (error || next >= n) return;
        i = next++;
      }
      std::optional<Result> r;
      try {
        r.emplace(work(i));
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!error) error = std::current_exception();
        cv.notify_all();
        return;
      }
      std::unique_lock<std::mutex> lock(mu);
      ready.emplace(i, std::move(*r));
      if (committing) continue;  // the thread already committing will pick it up
      committing = true;
      while (!error && !ready.empty() && ready.begin()->first == committed) {
        auto node = ready.extract(ready.begin());
        lock.unlock();
        try {
          commit(node.key(), std::move(node.mapped()));
        } catch (...) {
          lock.lock();
          if (!error) error = std::current_exception();
          break;
        }
        lock.lock();
        ++committed;
      }
      committing = false;
      cv.notify_all();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  // A result committed by no one (its committer saw `committing` set while the other was finishing)
  // is impossible: the committing thread loops until the next index is missing; anything that arrives
  // later starts its own commit loop. Drain defensively on this thread anyway.
  while (!ready.empty() && ready.begin()->first == committed) {
    auto node = ready.extract(ready.begin());
    commit(node.key(), std::move(node.mapped()));
    ++committed;
  }
}

}  // namespace slid
