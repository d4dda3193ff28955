#include "apps/train_multitask/schedules.h"

#include "base/registry.h"

namespace cg::multitask {

const std::vector<Schedule>& schedules() {
  static const std::vector<Schedule> s = {
      {"alternating",
       "each epoch: a pass of the translation group, then a pass of the classifier (UnitedNet)",
       false,
       {SchedulePhase::Translation, SchedulePhase::Classification}},
      {"finetune",
       "each epoch: a pass of the classifier, then a pass of the translation group",
       false,
       {SchedulePhase::Classification, SchedulePhase::Translation}},
      {"joint", "one pass, one optimizer, every term (classification included) through the weighting", true, {}},
  };
  return s;
}

const Schedule& schedule(const std::string& name) {
  return find_named(schedules(), name, "--schedule: unknown schedule");
}

}  // namespace cg::multitask
