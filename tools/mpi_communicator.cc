// MpiCommunicator: AllGather is MPI_Allgather of the sizes, then MPI_Allgatherv of the bytes;
// AllReduceSum is MPI_Reduce (MPI_SUM) to rank 0, then MPI_Bcast.
#include "mpi_communicator.h"

#include <algorithm>
#include <cstdlib>

#include "slid/error.h"

#ifdef SLID_WITH_MPI
#include <mpi.h>
#endif

namespace slid::tool {

#ifdef SLID_WITH_MPI

bool MpiLaunched() {
  // Open MPI, MPICH/PMI and PMIx (Slurm's srun) set one of these in every process they start.
  // (`mpirun -np 1` too: the distributed path with one process, e.g. for the scaling benchmark.)
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK"})
    if (std::getenv(v)) return true;
  return false;
}

MpiCommunicator::MpiCommunicator() {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (!initialised) {
    int provided = 0;
    // Only the main thread calls MPI (feature threads never do).
    if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
      throw Error("MPI_Init_thread failed");
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

MpiCommunicator::~MpiCommunicator() {
  int finalised = 0;
  MPI_Finalized(&finalised);
  if (!finalised) MPI_Finalize();
}

std::vector<std::string> MpiCommunicator::AllGather(const std::string& mine) {
  if (mine.size() > static_cast<size_t>(INT32_MAX)) throw Error("MPI all-gather: more than 2 GiB from one rank");
  const int n = static_cast<int>(mine.size());
  std::vector<int> sizes(size_), offsets(size_, 0);
  MPI_Allgather(&n, 1, MPI_INT, sizes.data(), 1, MPI_INT, MPI_COMM_WORLD);
  int64_t total = 0;
  for (int r = 0; r < size_; ++r) {
    offsets[r] = static_cast<int>(total);
    total += sizes[r];
  }
  if (total > INT32_MAX) throw Error("MPI all-gather: more than 2 GiB in total");
  std::string all(static_cast<size_t>(total), '\0');
  MPI_Allgatherv(mine.data(), n, MPI_BYTE, &all[0], sizes.data(), offsets.data(), MPI_BYTE, MPI_COMM_WORLD);
  std::vector<std::string> out;
  for (int r = 0; r < size_; ++r) out.push_back(all.substr(offsets[r], sizes[r]));
  return out;
}

void MpiCommunicator::AllReduceSum(std::vector<double>* values) {
  // In pieces of at most 2^30 doubles (MPI counts are int).
  constexpr size_t kPiece = size_t{1} << 30;
  for (size_t at = 0; at < values->size(); at += kPiece) {
    const int n = static_cast<int>(std::min(kPiece, values->size() - at));
    double* p = values->data() + at;
    if (rank_ == 0)
      MPI_Reduce(MPI_IN_PLACE, p, n, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    else
      MPI_Reduce(p, nullptr, n, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    MPI_Bcast(p, n, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  }
}

void MpiCommunicator::Abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code);
}

#else

bool MpiLaunched() { return false; }
MpiCommunicator::MpiCommunicator() { throw Error("this slid was built without MPI"); }
MpiCommunicator::~MpiCommunicator() = default;
std::vector<std::string> MpiCommunicator::AllGather(const std::string& mine) { return {mine}; }
void MpiCommunicator::AllReduceSum(std::vector<double>*) {}
void MpiCommunicator::Abort(int code) { std::exit(code); }

#endif

}  // namespace slid::tool
