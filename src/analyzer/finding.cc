#include "analyzer/finding.h"

#include <algorithm>
#include <array>
#include <tuple>

#include "analyzer/text.h"

namespace avtrace::analyzer {
namespace {

constexpr std::array<Rule, static_cast<size_t>(RuleId::kCount)> kRules = {{
#define AVT_RULE(e, id, level, spec, desc) {RuleId::e, id, Level::level, spec, desc},
#include "analyzer/rules.inc"
#undef AVT_RULE
}};

}  // namespace

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kInfo: return "info";
    case Level::kWarning: return "warning";
    case Level::kError: return "error";
  }
  return "error";
}

bool ParseLevel(std::string_view name, Level* out) {
  if (name == "info") *out = Level::kInfo;
  else if (name == "warning") *out = Level::kWarning;
  else if (name == "error") *out = Level::kError;
  else return false;
  return true;
}

const Rule& GetRule(RuleId id) { return kRules[static_cast<size_t>(id)]; }

std::span<const Rule> AllRules() { return kRules; }

const Rule* FindRule(std::string_view id) {
  for (const auto& r : kRules)
    if (r.id == id) return &r;
  return nullptr;
}

bool Findings::Has(RuleId rule) const {
  return std::any_of(items_.begin(), items_.end(), [&](const Finding& f) { return f.rule == rule; });
}

void SortFindings(std::vector<Finding>* findings) {
  std::stable_sort(findings->begin(), findings->end(), [](const Finding& a, const Finding& b) {
    return std::tie(a.line, a.location, a.rule, a.message) <
           std::tie(b.line, b.location, b.rule, b.message);
  });
}

void Report::AddNumber(std::string key, double value) {
  facts.push_back({std::move(key), FormatNumber(value), Fact::Kind::kNumber});
}

size_t Report::Count(Level level) const {
  return static_cast<size_t>(std::count_if(findings.begin(), findings.end(),
                                           [&](const Finding& f) { return f.level() == level; }));
}

bool Report::AnyAtOrAbove(Level level) const {
  return std::any_of(findings.begin(), findings.end(),
                     [&](const Finding& f) { return f.level() >= level; });
}

}  // namespace avtrace::analyzer
