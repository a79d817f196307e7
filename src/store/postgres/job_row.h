// How a Job maps onto a row of the jobs table: the columns of kJobColumns (queries.h), in order,
// and the column arrays of a batch insert (kInsertJobs).
#pragma once

#include <span>

#include "core/job.h"
#include "store/postgres/connection.h"

namespace sluice::pg {

// Reads the Job in row `row`, columns [first, first + kJobColumnCount).
Job ReadJob(const Rows& rows, int row, int first = 0);

// The parameters of kInsertJobs for `jobs`: one array per spec column, in the jobs' order.
Params SubmitParams(std::span<const Job> jobs);

}  // namespace sluice::pg
