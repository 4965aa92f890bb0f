#include "analyzer/report/render.h"

#include <algorithm>

#include "analyzer/text.h"

namespace avtrace::analyzer::report {
namespace {

void Str(std::string_view s, std::string* out) {
  out->push_back('"');
  AppendJsonEscaped(s, out);
  out->push_back('"');
}

void Key(std::string_view k, std::string* out) {
  Str(k, out);
  out->push_back(':');
}

struct Totals {
  size_t errors = 0, warnings = 0, infos = 0;
};

Totals Count(const std::vector<Report>& reports) {
  Totals t;
  for (const auto& r : reports)
    for (const auto& f : r.findings) {
      switch (f.level()) {
        case Level::kError: ++t.errors; break;
        case Level::kWarning: ++t.warnings; break;
        case Level::kInfo: ++t.infos; break;
      }
    }
  return t;
}

std::string Plural(size_t n, std::string_view word) {
  return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

}  // namespace

std::string RenderText(const std::vector<Report>& reports, bool color) {
  const char* reset = color ? "\033[0m" : "";
  const char* bold = color ? "\033[1m" : "";
  const char* dim = color ? "\033[2m" : "";
  std::string out;
  for (const auto& r : reports) {
    out += bold;
    out += r.target;
    out += reset;
    out += ": ";
    out += r.kind;
    if (!r.facts.empty()) {
      out += " (";
      for (size_t i = 0; i < r.facts.size(); ++i) {
        if (i) out += ", ";
        out += r.facts[i].key + "=" + r.facts[i].value;
      }
      out += ")";
    }
    out += "\n";
    for (const auto& f : r.findings) {
      const Rule& rule = f.info();
      const char* c = "";
      if (color) {
        c = rule.level == Level::kError ? "\033[1;31m"
            : rule.level == Level::kWarning ? "\033[1;33m"
                                            : "\033[36m";
      }
      out += "  ";
      out += r.target;
      if (f.line > 0) out += ":" + std::to_string(f.line);
      out += ": ";
      out += c;
      out += LevelName(rule.level);
      out += reset;
      out += ": ";
      out += f.message;
      if (!f.location.empty()) out += " (" + f.location + ")";
      out += " ";
      out += dim;
      out += "[";
      out += rule.id;
      out += ", ";
      out += rule.spec_ref;
      out += "]";
      out += reset;
      out += "\n";
    }
  }
  Totals t = Count(reports);
  const char* sc = !color ? "" : t.errors ? "\033[1;31m" : t.warnings ? "\033[1;33m" : "\033[1;32m";
  out += sc;
  out += Plural(t.errors, "error") + ", " + Plural(t.warnings, "warning") + ", " +
         std::to_string(t.infos) + " info in " + Plural(reports.size(), "input");
  out += reset;
  out += "\n";
  return out;
}

std::string RenderJson(const std::vector<Report>& reports, std::string_view tool_version) {
  std::string o;
  o.reserve(1024);
  Totals t = Count(reports);
  o += "{";
  Key("tool", &o);
  Str("avtrace-check", &o);
  o += ",";
  Key("version", &o);
  Str(tool_version, &o);
  o += ",";
  Key("summary", &o);
  o += "{\"errors\":" + std::to_string(t.errors) + ",\"warnings\":" + std::to_string(t.warnings) +
       ",\"infos\":" + std::to_string(t.infos) + ",\"inputs\":" + std::to_string(reports.size()) +
       "},";
  Key("reports", &o);
  o += "[";
  for (size_t ri = 0; ri < reports.size(); ++ri) {
    const Report& r = reports[ri];
    if (ri) o += ",";
    o += "{";
    Key("target", &o);
    Str(r.target, &o);
    o += ",";
    Key("kind", &o);
    Str(r.kind, &o);
    o += ",";
    Key("facts", &o);
    o += "{";
    for (size_t i = 0; i < r.facts.size(); ++i) {
      if (i) o += ",";
      Key(r.facts[i].key, &o);
      if (r.facts[i].kind == Fact::Kind::kString) Str(r.facts[i].value, &o);
      else o += r.facts[i].value;
    }
    o += "},";
    Key("findings", &o);
    o += "[";
    for (size_t i = 0; i < r.findings.size(); ++i) {
      const Finding& f = r.findings[i];
      const Rule& rule = f.info();
      if (i) o += ",";
      o += "{";
      Key("rule_id", &o);
      Str(rule.id, &o);
      o += ",";
      Key("level", &o);
      Str(LevelName(rule.level), &o);
      o += ",";
      Key("line", &o);
      o += std::to_string(f.line);
      o += ",";
      Key("message", &o);
      Str(f.message, &o);
      o += ",";
      Key("spec_ref", &o);
      Str(rule.spec_ref, &o);
      if (!f.location.empty()) {
        o += ",";
        Key("location", &o);
        Str(f.location, &o);
      }
      o += "}";
    }
    o += "]}";
  }
  o += "]}\n";
  return o;
}

std::string RenderSarif(const std::vector<Report>& reports, std::string_view tool_version) {
  // The rules that fired, in catalogue order; results refer to them by index.
  std::vector<RuleId> used;
  for (const auto& r : reports)
    for (const auto& f : r.findings)
      if (std::find(used.begin(), used.end(), f.rule) == used.end()) used.push_back(f.rule);
  std::sort(used.begin(), used.end());
  auto sarif_level = [](Level l) {
    return l == Level::kError ? "error" : l == Level::kWarning ? "warning" : "note";
  };
  std::string o;
  o += "{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\",";
  o += "\"runs\":[{\"tool\":{\"driver\":{\"name\":\"avtrace-check\",\"version\":";
  Str(tool_version, &o);
  o += ",\"informationUri\":\"https://github.com/avtrace/avtrace/blob/main/docs/ANALYZER.md\",";
  o += "\"rules\":[";
  for (size_t i = 0; i < used.size(); ++i) {
    const Rule& rule = GetRule(used[i]);
    if (i) o += ",";
    o += "{\"id\":";
    Str(rule.id, &o);
    o += ",\"shortDescription\":{\"text\":";
    Str(rule.description, &o);
    o += "},\"defaultConfiguration\":{\"level\":\"";
    o += sarif_level(rule.level);
    o += "\"},\"properties\":{\"specRef\":";
    Str(rule.spec_ref, &o);
    o += "}}";
  }
  o += "]}},\"artifacts\":[";
  for (size_t i = 0; i < reports.size(); ++i) {
    if (i) o += ",";
    o += "{\"location\":{\"uri\":";
    Str(reports[i].target, &o);
    o += "}}";
  }
  o += "],\"results\":[";
  bool first = true;
  for (size_t ai = 0; ai < reports.size(); ++ai) {
    const Report& r = reports[ai];
    for (const auto& f : r.findings) {
      const Rule& rule = f.info();
      if (!first) o += ",";
      first = false;
      size_t idx = static_cast<size_t>(std::find(used.begin(), used.end(), f.rule) - used.begin());
      o += "{\"ruleId\":";
      Str(rule.id, &o);
      o += ",\"ruleIndex\":" + std::to_string(idx) + ",\"level\":\"";
      o += sarif_level(rule.level);
      o += "\",\"message\":{\"text\":";
      Str(f.message, &o);
      o += "},\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{\"uri\":";
      Str(r.target, &o);
      o += ",\"index\":" + std::to_string(ai) + "}";
      if (f.line > 0) o += ",\"region\":{\"startLine\":" + std::to_string(f.line) + "}";
      o += "}";
      if (!f.location.empty()) {
        o += ",\"logicalLocations\":[{\"fullyQualifiedName\":";
        Str(f.location, &o);
        o += "}]";
      }
      o += "}]}";
    }
  }
  o += "]}]}\n";
  return o;
}

}  // namespace avtrace::analyzer::report

namespace avtrace::analyzer::report {

std::string RenderRuleCatalogue() {
  std::string o = "| Rule id | Level | Spec | Description |\n|---|---|---|---|\n";
  for (const auto& r : AllRules()) {
    o += "| `" + std::string(r.id) + "` | " + std::string(LevelName(r.level)) + " | " +
         std::string(r.spec_ref) + " | ";
    for (char c : r.description) {
      if (c == '|') o += "\\|";
      else o += c;
    }
    o += " |\n";
  }
  return o;
}

}  // namespace avtrace::analyzer::report
