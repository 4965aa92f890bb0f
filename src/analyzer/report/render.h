#pragma once
// Renders check reports for people and machines:
//  - RenderText: compiler-style "target:line: level: message [rule, spec]" lines, ANSI colour on
//    request (the caller decides: TTY and no NO_COLOR), and a summary line.
//  - RenderJson: deterministic JSON (fixed key order, findings in SortFindings order, numbers
//    via FormatNumber, no timestamps) so that two runs on the same input are byte-identical.
//  - RenderSarif: SARIF 2.1.0 (one run, the rules that fired under tool.driver.rules) for code
//    scanning UIs and CI annotations.
//
// Threads: pure functions. The reports' findings must already be sorted (SortFindings).

#include <string>
#include <string_view>
#include <vector>

#include "analyzer/finding.h"

namespace avtrace::analyzer::report {

std::string RenderText(const std::vector<Report>& reports, bool color);
std::string RenderJson(const std::vector<Report>& reports, std::string_view tool_version);
std::string RenderSarif(const std::vector<Report>& reports, std::string_view tool_version);

}  // namespace avtrace::analyzer::report

namespace avtrace::analyzer::report {
// The rule catalogue as a Markdown table (id, level, spec, description), as docs/ANALYZER.md
// embeds it between <!-- rules:begin --> and <!-- rules:end -->.
std::string RenderRuleCatalogue();
}  // namespace avtrace::analyzer::report
