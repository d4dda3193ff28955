#include "apps/train_multitask/schedules.h"

#include "autograd/error.h"
#include "base/text.h"

namespace cg::multitask {

const std::vector<Schedule>& schedules() {
  static const std::vector<Schedule> s = {
      {"alternating", "each epoch: a pass of the translation group, then a pass of the classifier (UnitedNet)", false,
       {SchedulePhase::Translation, SchedulePhase::Classification}},
      {"finetune", "each epoch: a pass of the classifier, then a pass of the translation group", false,
       {SchedulePhase::Classification, SchedulePhase::Translation}},
      {"joint", "one pass, one optimizer, every term (classification included) through the weighting", true, {}},
  };
  return s;
}

std::vector<std::string> schedule_names() {
  std::vector<std::string> out;
  for (const auto& s : schedules()) out.push_back(s.name);
  return out;
}

const Schedule& schedule(const std::string& name) {
  for (const auto& s : schedules())
    if (name == s.name) return s;
  throw Error("--schedule: expected " + join(schedule_names(), ", ") + ", found '" + name + "'");
}

}  // namespace cg::multitask
