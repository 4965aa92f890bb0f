#pragma once
// The findings model shared by every analyzer: a rule catalogue (rules.inc) and the Finding values
// the parsers and checks produce, plus the Report that the renderers (report/) print.
//
// A Rule is static data: a stable id, a fixed level, the spec section it enforces and a one-line
// description. A Finding names its rule by RuleId and adds where (line, location) and what
// (message). Levels are per rule, never per finding, so that --fail-on is predictable.
//
// Threads: values only; Rules are immutable globals. Errors: none (lookups of unknown ids return
// nullptr).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace avtrace::analyzer {

enum class Level : uint8_t { kInfo = 0, kWarning = 1, kError = 2 };

// "info", "warning", "error".
std::string_view LevelName(Level level);
// Accepts "info", "warning", "error"; false otherwise.
bool ParseLevel(std::string_view name, Level* out);

enum class RuleId : uint16_t {
#define AVT_RULE(e, id, level, spec, desc) e,
#include "analyzer/rules.inc"
#undef AVT_RULE
  kCount
};

struct Rule {
  RuleId rule;
  std::string_view id;
  Level level;
  std::string_view spec_ref;
  std::string_view description;
};

const Rule& GetRule(RuleId id);
// Every rule in catalogue order.
std::span<const Rule> AllRules();
// nullptr if no rule has that id.
const Rule* FindRule(std::string_view id);

struct Finding {
  RuleId rule;
  int line = 0;          // 1-based line in the manifest; 0 when not line-bound (binary, crawl)
  std::string message;   // English, one sentence, with the offending values
  std::string location;  // optional: URI, MPD path or box path that pins the finding further

  const Rule& info() const { return GetRule(rule); }
  Level level() const { return GetRule(rule).level; }
};

// Collects findings. Cheap to add to; the parsers hold a pointer to one.
class Findings {
 public:
  void Add(RuleId rule, int line, std::string message, std::string location = {}) {
    items_.push_back(Finding{rule, line, std::move(message), std::move(location)});
  }
  void Append(std::vector<Finding> more) {
    for (auto& f : more) items_.push_back(std::move(f));
  }
  const std::vector<Finding>& items() const { return items_; }
  std::vector<Finding> Take() { return std::move(items_); }
  bool Has(RuleId rule) const;
  size_t size() const { return items_.size(); }

 private:
  std::vector<Finding> items_;
};

// Sorts findings into the one deterministic order every renderer uses: by line, location, rule
// catalogue order, then message.
void SortFindings(std::vector<Finding>* findings);

// A named fact about the input for the summary ("segments": 1000, "live": true). Values are kept
// as text; `kind` tells the JSON writer how to print them.
struct Fact {
  enum class Kind : uint8_t { kString, kNumber, kBool };
  std::string key;
  std::string value;
  Kind kind = Kind::kString;
};

// What one check run produced for one input (a manifest, a segment, or a crawl).
struct Report {
  std::string target;  // the path or URL as given
  std::string kind;    // "hls-multivariant", "hls-media", "dash", "mp4-init", "mp4-media", "unknown"
  std::vector<Fact> facts;
  std::vector<Finding> findings;

  void AddFact(std::string key, std::string value) {
    facts.push_back({std::move(key), std::move(value), Fact::Kind::kString});
  }
  void AddNumber(std::string key, double value);
  void AddBool(std::string key, bool value) {
    facts.push_back({std::move(key), value ? "true" : "false", Fact::Kind::kBool});
  }
  size_t Count(Level level) const;
  // Highest level present, or nullopt-like: returns false when there are no findings.
  bool AnyAtOrAbove(Level level) const;
};

}  // namespace avtrace::analyzer
