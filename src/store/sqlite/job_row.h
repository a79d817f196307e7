// How a Job maps onto a row of the jobs table: the columns of kJobColumns (queries.h), in order.
#pragma once

#include "core/job.h"
#include "store/sqlite/connection.h"

namespace sluice::sqlite {

// Reads the Job in the current row's columns [first, first + kJobColumnCount).
Job ReadJob(const Statement& row, int first = 0);

// Binds every field of `job` to parameters ?1..?kJobColumnCount. The text fields are bound
// without copying: `job` must outlive the statement's next reset.
void BindJob(Statement& stmt, const Job& job);

}  // namespace sluice::sqlite
