// slid::Communicator over MPI (MPI_COMM_WORLD), for `mpirun -np N slid train ...`. Built only when CMake
// finds MPI (SLID_WITH_MPI); otherwise MpiLaunched() is false and slid train runs in one process.
#pragma once
#include <memory>

#include "slid/distributed.h"

namespace slid::tool {

// True if this process was started by an MPI launcher (mpirun/mpiexec/srun; any number of processes)
// and slid was built with MPI.
bool MpiLaunched();

// Initialises MPI on construction (once) and finalises it on destruction. Abort() ends every rank
// (MPI_Abort): an error on one rank must not leave the others waiting in a collective.
class MpiCommunicator : public Communicator {
 public:
  MpiCommunicator();
  ~MpiCommunicator() override;
  int Rank() const override { return rank_; }
  int Size() const override { return size_; }
  std::vector<std::string> AllGather(const std::string& mine) override;
  // MPI_Reduce (MPI_SUM, MPI_DOUBLE) to rank 0, then MPI_Bcast of rank 0's result: every rank gets
  // the same bits, which MPI_Allreduce does not promise (its algorithm, and so the association of the
  // additions, may differ between ranks), and the ranks' stopping decisions must agree.
  void AllReduceSum(std::vector<double>* values) override;
  [[noreturn]] void Abort(int code);

 private:
  int rank_ = 0, size_ = 1;
};

}  // namespace slid::tool
