#pragma once
// Training schedules of the multi-task model, registered once: how the translation group and
// the classifier share an epoch.
#include <string>
#include <vector>

namespace cg::multitask {

enum class SchedulePhase { Translation, Classification };

struct Schedule {
  const char* name;
  const char* description;
  // One optimizer over every task and every term through the weighting strategy (true), or one
  // optimizer per group, each group a pass over the training cells in `order`.
  bool joint;
  std::vector<SchedulePhase> order;
};

const std::vector<Schedule>& schedules();
const Schedule& schedule(const std::string& name);  // throws cg::Error listing the names

}  // namespace cg::multitask
