#pragma once
// Who else learns of each result as it is written (`mtool run --metrics`: run_metrics). Told
// once per completed run, from the result itself, never per packet: the probe loop pays nothing
// between a run's start and its end, and what an observer counts is what the results say.
#include "campaign/measurement_list.h"
#include "report/atlas_results.h"

namespace mtool::campaign {

class ResultObserver {
 public:
  virtual ~ResultObserver() = default;
  virtual void observe(const MeasurementDefinition& d, const report::AtlasPingResult& result) = 0;
  virtual void observe(const MeasurementDefinition& d,
                       const report::AtlasTracerouteResult& result) = 0;
};

}  // namespace mtool::campaign
