#include "analyzer/dash/mpd.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <utility>

#include <pugixml.hpp>

#include "analyzer/text.h"
#include "analyzer/url.h"

namespace avtrace::analyzer::dash {
namespace {

std::string_view LocalName(const char* name) {
  std::string_view n(name);
  size_t colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

pugi::xml_attribute Attr(const pugi::xml_node& node, std::string_view name) {
  for (pugi::xml_attribute a : node.attributes())
    if (LocalName(a.name()) == name) return a;
  return {};
}

std::vector<pugi::xml_node> Children(const pugi::xml_node& node, std::string_view name) {
  std::vector<pugi::xml_node> out;
  for (pugi::xml_node c : node.children())
    if (c.type() == pugi::node_element && LocalName(c.name()) == name) out.push_back(c);
  return out;
}

pugi::xml_node Child(const pugi::xml_node& node, std::string_view name) {
  for (pugi::xml_node c : node.children())
    if (c.type() == pugi::node_element && LocalName(c.name()) == name) return c;
  return {};
}

class Parser {
 public:
  Parser(std::string_view text, std::string_view base_url, Findings* out)
      : text_(text), base_url_(base_url), out_(out) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n') line_starts_.push_back(i + 1);
  }

  Mpd Run();

 private:
  int Line(ptrdiff_t offset) const {
    if (offset < 0) return 0;
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), static_cast<size_t>(offset));
    return static_cast<int>(it - line_starts_.begin());
  }
  int Line(const pugi::xml_node& n) const { return Line(n.offset_debug()); }
  void Add(RuleId rule, const pugi::xml_node& n, std::string msg, std::string location = {}) {
    out_->Add(rule, Line(n), std::move(msg), std::move(location));
  }

  std::optional<double> Duration(const pugi::xml_node& n, std::string_view name) {
    pugi::xml_attribute a = Attr(n, name);
    if (!a) return std::nullopt;
    auto v = ParseXsDuration(a.value());
    if (!v || *v < 0) {
      Add(RuleId::kDashAttributeMalformed, n,
          std::string(name) + "=\"" + a.value() + "\" is not a non-negative xs:duration.");
      return std::nullopt;
    }
    return v;
  }
  std::optional<double> DateTime(const pugi::xml_node& n, std::string_view name) {
    pugi::xml_attribute a = Attr(n, name);
    if (!a) return std::nullopt;
    auto v = ParseIso8601(a.value());
    if (!v) Add(RuleId::kDashAttributeMalformed, n, std::string(name) + "=\"" + a.value() + "\" is not an xs:dateTime.");
    return v;
  }
  std::optional<uint64_t> Unsigned(const pugi::xml_node& n, std::string_view name) {
    pugi::xml_attribute a = Attr(n, name);
    if (!a) return std::nullopt;
    uint64_t v;
    if (!ParseDecimalInt(Trim(a.value()), &v)) {
      Add(RuleId::kDashAttributeMalformed, n, std::string(name) + "=\"" + a.value() + "\" is not an unsigned integer.");
      return std::nullopt;
    }
    return v;
  }

  std::string BaseUrl(const pugi::xml_node& n, const std::string& parent, bool* explicit_base) {
    pugi::xml_node b = Child(n, "BaseURL");
    if (!b) return parent;
    *explicit_base = true;
    return ResolveUrl(parent, Trim(b.text().get()));
  }
  void MergeSegmentInfo(const pugi::xml_node& n, SegmentInfo* info);
  void ReadTimeline(const pugi::xml_node& tl, SegmentInfo* info);
  void ReadProtection(const pugi::xml_node& n, std::vector<std::string>* schemes);

  std::string_view text_;
  std::string base_url_;
  Findings* out_;
  std::vector<size_t> line_starts_;
};

void Parser::ReadTimeline(const pugi::xml_node& tl, SegmentInfo* info) {
  info->has_timeline = true;
  info->timeline.clear();
  uint64_t cur = 0;
  bool first = true;
  std::vector<pugi::xml_node> ss = Children(tl, "S");
  for (size_t i = 0; i < ss.size(); ++i) {
    const pugi::xml_node& s = ss[i];
    TimelineEntry e;
    e.line = Line(s);
    e.t = Unsigned(s, "t");
    auto d = Unsigned(s, "d");
    if (!d || *d == 0) {
      if (!Attr(s, "d") || d) Add(RuleId::kDashTimelineInvalid, s, "SegmentTimeline S has no positive @d.");
      continue;
    }
    e.d = *d;
    if (pugi::xml_attribute r = Attr(s, "r")) {
      if (!ParseSignedInt(Trim(r.value()), &e.r) || e.r < -1) {
        Add(RuleId::kDashTimelineInvalid, s, std::string("S@r=\"") + r.value() + "\" is not -1 or a non-negative integer.");
        e.r = 0;
      }
    }
    if (e.t && !first) {
      if (*e.t < cur) {
        Add(RuleId::kDashTimelineInvalid, s,
            "S@t=" + std::to_string(*e.t) + " goes back before the end of the previous segment (" +
                std::to_string(cur) + "): segments overlap.");
      } else if (*e.t > cur) {
        Add(RuleId::kDashTimelineGap, s,
            "S@t=" + std::to_string(*e.t) + " leaves a gap of " + std::to_string(*e.t - cur) +
                " ticks after the previous segment.");
      }
    }
    uint64_t start = e.t.value_or(cur);
    first = false;
    if (e.r >= 0) {
      cur = start + e.d * (static_cast<uint64_t>(e.r) + 1);
    } else {
      // r=-1 repeats until the next S@t (or the period end); continue from there.
      if (i + 1 < ss.size()) {
        auto next_t = Attr(ss[i + 1], "t");
        uint64_t nt;
        cur = next_t && ParseDecimalInt(next_t.value(), &nt) ? nt : start + e.d;
      } else {
        cur = start + e.d;
      }
    }
    info->timeline.push_back(e);
  }
}

void Parser::MergeSegmentInfo(const pugi::xml_node& n, SegmentInfo* info) {
  pugi::xml_node base = Child(n, "SegmentBase"), list = Child(n, "SegmentList"),
                 tmpl = Child(n, "SegmentTemplate");
  int count = !!base + !!list + !!tmpl;
  if (count > 1)
    Add(RuleId::kDashSegmentInfoConflict, n,
        std::string(LocalName(n.name())) + " has more than one of SegmentBase, SegmentList and "
        "SegmentTemplate.");
  pugi::xml_node s = tmpl ? tmpl : list ? list : base;
  if (!s) return;
  info->kind = tmpl ? SegmentInfo::Kind::kTemplate : list ? SegmentInfo::Kind::kList : SegmentInfo::Kind::kBase;
  info->line = Line(s);
  if (auto v = Unsigned(s, "timescale")) {
    if (*v == 0) Add(RuleId::kDashAttributeMalformed, s, "@timescale must be positive.");
    else info->timescale = *v;
  }
  if (auto v = Unsigned(s, "duration")) info->duration = *v;
  if (auto v = Unsigned(s, "startNumber")) info->start_number = *v;
  if (auto v = Unsigned(s, "presentationTimeOffset")) info->presentation_time_offset = *v;
  if (pugi::xml_attribute a = Attr(s, "availabilityTimeOffset")) {
    double v;
    if (std::string_view(a.value()) == "INF") info->availability_time_offset = 1e12;
    else if (ParseDecimalFloat(a.value(), &v)) info->availability_time_offset = v;
    else Add(RuleId::kDashAttributeMalformed, s, "availabilityTimeOffset is not a number.");
  }
  if (pugi::xml_attribute a = Attr(s, "media")) info->media = a.value();
  if (pugi::xml_attribute a = Attr(s, "initialization")) info->initialization = a.value();
  auto check_range = [&](const pugi::xml_node& where, std::string_view value, std::string_view what) {
    size_t dash = value.find('-');
    uint64_t a = 0, b = 0;
    if (dash == std::string_view::npos || !ParseDecimalInt(value.substr(0, dash), &a) ||
        !ParseDecimalInt(value.substr(dash + 1), &b) || a > b)
      Add(RuleId::kDashSegmentBaseInvalid, where,
          std::string(what) + "=\"" + std::string(value) + "\" is not <first>-<last>.");
  };
  if (pugi::xml_attribute a = Attr(s, "indexRange")) {
    info->index_range = a.value();
    check_range(s, a.value(), "indexRange");
  }
  if (pugi::xml_node init = Child(s, "Initialization")) {
    if (pugi::xml_attribute a = Attr(init, "sourceURL")) info->initialization = a.value();
    if (pugi::xml_attribute a = Attr(init, "range")) check_range(init, a.value(), "Initialization@range");
  }
  if (pugi::xml_node tl = Child(s, "SegmentTimeline")) ReadTimeline(tl, info);
  if (list) {
    info->list_media.clear();
    info->list_media_range.clear();
    for (const auto& u : Children(list, "SegmentURL")) {
      info->list_media.push_back(Attr(u, "media").value());
      info->list_media_range.push_back(Attr(u, "mediaRange").value());
    }
    if (info->list_media.empty()) Add(RuleId::kDashSegmentListEmpty, list, "SegmentList has no SegmentURL.");
  }
}

void Parser::ReadProtection(const pugi::xml_node& n, std::vector<std::string>* schemes) {
  for (const auto& cp : Children(n, "ContentProtection")) {
    std::string scheme = Attr(cp, "schemeIdUri").value();
    schemes->push_back(scheme);
    std::string lower;
    for (char c : scheme) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "urn:mpeg:dash:mp4protection:2011" && !Attr(cp, "default_KID"))
      Add(RuleId::kDashContentProtectionKid, cp,
          "ContentProtection urn:mpeg:dash:mp4protection:2011 has no cenc:default_KID.");
  }
}

Mpd Parser::Run() {
  Mpd mpd;
  pugi::xml_document doc;
  pugi::xml_parse_result res =
      doc.load_buffer(text_.data(), text_.size(), pugi::parse_default, pugi::encoding_auto);
  if (!res) {
    out_->Add(RuleId::kDashXmlMalformed, Line(res.offset),
              std::string("XML error: ") + res.description() + ".");
    return mpd;
  }
  pugi::xml_node root = doc.document_element();
  if (LocalName(root.name()) != "MPD") {
    out_->Add(RuleId::kDashRootNotMpd, Line(root),
              "The document element is <" + std::string(root.name()) + ">, not <MPD>.");
    return mpd;
  }
  mpd.parsed = true;
  if (pugi::xml_attribute t = Attr(root, "type")) {
    mpd.type = t.value();
    if (mpd.type == "dynamic") mpd.dynamic = true;
    else if (mpd.type != "static")
      Add(RuleId::kDashMpdTypeUnknown, root, "MPD@type=\"" + mpd.type + "\" is not static or dynamic.");
  }
  if (pugi::xml_attribute p = Attr(root, "profiles")) mpd.profiles = p.value();
  else Add(RuleId::kDashProfilesMissing, root, "MPD has no @profiles.");
  mpd.availability_start_time = DateTime(root, "availabilityStartTime");
  mpd.publish_time = DateTime(root, "publishTime");
  mpd.media_presentation_duration = Duration(root, "mediaPresentationDuration");
  mpd.minimum_update_period = Duration(root, "minimumUpdatePeriod");
  mpd.time_shift_buffer_depth = Duration(root, "timeShiftBufferDepth");
  mpd.suggested_presentation_delay = Duration(root, "suggestedPresentationDelay");
  mpd.min_buffer_time = Duration(root, "minBufferTime");
  if (!Attr(root, "minBufferTime")) Add(RuleId::kDashMinBufferTimeMissing, root, "MPD has no @minBufferTime.");
  if (mpd.dynamic && !Attr(root, "availabilityStartTime"))
    Add(RuleId::kDashDynamicMissingAst, root, "Dynamic MPD without @availabilityStartTime.");
  for (const auto& u : Children(root, "UTCTiming"))
    mpd.utc_timings.push_back({Attr(u, "schemeIdUri").value(), Attr(u, "value").value(), Line(u)});

  bool mpd_base = false;
  std::string mpd_url = BaseUrl(root, base_url_, &mpd_base);
  double next_start = 0;
  int period_index = 0;
  for (const auto& pn : Children(root, "Period")) {
    Period p;
    p.line = Line(pn);
    p.id = Attr(pn, "id").value();
    p.start = Duration(pn, "start");
    p.duration = Duration(pn, "duration");
    // §5.3.2.1: an absent @start continues from the previous Period's end (0 for the first).
    p.computed_start = p.start.value_or(next_start);
    next_start = p.computed_start + p.duration.value_or(0);
    bool p_base = mpd_base;
    std::string p_url = BaseUrl(pn, mpd_url, &p_base);
    SegmentInfo p_seg;
    MergeSegmentInfo(pn, &p_seg);
    int as_index = 0;
    for (const auto& an : Children(pn, "AdaptationSet")) {
      AdaptationSet as;
      as.line = Line(an);
      as.id = Attr(an, "id").value();
      as.content_type = Attr(an, "contentType").value();
      as.mime_type = Attr(an, "mimeType").value();
      as.codecs = Attr(an, "codecs").value();
      as.lang = Attr(an, "lang").value();
      ReadProtection(an, &as.protection_schemes);
      bool a_base = p_base;
      std::string a_url = BaseUrl(an, p_url, &a_base);
      SegmentInfo a_seg = p_seg;
      MergeSegmentInfo(an, &a_seg);
      std::string as_path = "MPD/Period[" + std::to_string(period_index) + "]/AdaptationSet[" +
                            (as.id.empty() ? std::to_string(as_index) : "id=" + as.id) + "]";
      int rep_index = 0;
      for (const auto& rn : Children(an, "Representation")) {
        Representation r;
        r.line = Line(rn);
        r.id = Attr(rn, "id").value();
        r.path = as_path + "/Representation[" + (r.id.empty() ? std::to_string(rep_index) : "id=" + r.id) + "]";
        if (auto bw = Unsigned(rn, "bandwidth")) r.bandwidth = *bw;
        else if (!Attr(rn, "bandwidth"))
          Add(RuleId::kDashRepresentationMissingBandwidth, rn, "Representation has no @bandwidth.", r.path);
        if (r.id.empty()) Add(RuleId::kDashRepresentationMissingId, rn, "Representation has no @id.", r.path);
        r.width = Unsigned(rn, "width").value_or(0);
        r.height = Unsigned(rn, "height").value_or(0);
        r.codecs = Attr(rn, "codecs") ? Attr(rn, "codecs").value() : as.codecs;
        r.mime_type = Attr(rn, "mimeType") ? Attr(rn, "mimeType").value() : as.mime_type;
        r.frame_rate = Attr(rn, "frameRate") ? Attr(rn, "frameRate").value() : Attr(an, "frameRate").value();
        std::vector<std::string> rep_schemes;
        ReadProtection(rn, &rep_schemes);
        bool r_base = a_base;
        r.base_url = BaseUrl(rn, a_url, &r_base);
        r.segments = a_seg;
        MergeSegmentInfo(rn, &r.segments);
        if (r.segments.kind == SegmentInfo::Kind::kNone && !r_base)
          Add(RuleId::kDashNoSegmentReference, rn,
              "Representation has no SegmentBase, SegmentList, SegmentTemplate or BaseURL.", r.path);
        as.representations.push_back(std::move(r));
        ++rep_index;
      }
      if (as.representations.empty())
        Add(RuleId::kDashRepresentationMissing, an, "AdaptationSet has no Representation.", as_path);
      p.adaptation_sets.push_back(std::move(as));
      ++as_index;
    }
    mpd.periods.push_back(std::move(p));
    ++period_index;
  }
  return mpd;
}

// Validates one template string; returns a reason when it is not allowed.
std::optional<std::string> TemplateProblem(std::string_view t, bool has_timeline) {
  bool number = false, time = false;
  size_t i = 0;
  while (i < t.size()) {
    size_t open = t.find('$', i);
    if (open == std::string_view::npos) break;
    size_t close = t.find('$', open + 1);
    if (close == std::string_view::npos) return "unterminated $ identifier";
    std::string_view id = t.substr(open + 1, close - open - 1);
    i = close + 1;
    if (id.empty()) continue;  // "$$"
    std::string_view name = id.substr(0, id.find('%'));
    std::string_view fmt = id.find('%') == std::string_view::npos ? "" : id.substr(id.find('%'));
    if (name != "RepresentationID" && name != "Number" && name != "Bandwidth" && name != "Time" &&
        name != "SubNumber")
      return "unknown identifier $" + std::string(id) + "$";
    if (!fmt.empty()) {
      uint64_t w;
      if (name == "RepresentationID" || fmt.size() < 4 || fmt.substr(0, 2) != "%0" ||
          fmt.back() != 'd' || !ParseDecimalInt(fmt.substr(2, fmt.size() - 3), &w) || w > 64)
        return "bad format tag in $" + std::string(id) + "$";
    }
    number |= name == "Number";
    time |= name == "Time";
  }
  if (time && !has_timeline) return "$Time$ without a SegmentTimeline";
  if (time && number) return "both $Number$ and $Time$";
  return std::nullopt;
}

}  // namespace

bool LooksLikeMpd(std::string_view text) {
  if (StartsWith(text, "\xEF\xBB\xBF")) text.remove_prefix(3);
  size_t i = text.find_first_not_of(" \t\r\n");
  if (i == std::string_view::npos) return false;
  text.remove_prefix(i);
  // Any XML document goes to the DASH parser (as m-trace does), which names a wrong root.
  if (StartsWith(text, "<?xml")) return true;
  return StartsWith(text, "<MPD") || (StartsWith(text, "<") && text.substr(0, 64).find(":MPD") != std::string_view::npos);
}

Mpd Parse(std::string_view text, std::string_view base_url, Findings* out) {
  return Parser(text, base_url, out).Run();
}

std::optional<std::string> FormatTemplate(std::string_view tmpl, const Representation& rep,
                                          uint64_t number, uint64_t time) {
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t open = tmpl.find('$', i);
    if (open == std::string_view::npos) {
      out.append(tmpl.substr(i));
      break;
    }
    out.append(tmpl.substr(i, open - i));
    size_t close = tmpl.find('$', open + 1);
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view id = tmpl.substr(open + 1, close - open - 1);
    i = close + 1;
    if (id.empty()) {
      out.push_back('$');
      continue;
    }
    size_t pct = id.find('%');
    std::string_view name = id.substr(0, pct);
    uint64_t width = 1;
    if (pct != std::string_view::npos) {
      std::string_view fmt = id.substr(pct);
      if (name == "RepresentationID" || fmt.size() < 4 || fmt.substr(0, 2) != "%0" || fmt.back() != 'd' ||
          !ParseDecimalInt(fmt.substr(2, fmt.size() - 3), &width) || width > 64)
        return std::nullopt;
    }
    std::string value;
    if (name == "RepresentationID") value = rep.id;
    else if (name == "Number") value = std::to_string(number);
    else if (name == "Bandwidth") value = std::to_string(rep.bandwidth);
    else if (name == "Time") value = std::to_string(time);
    else return std::nullopt;
    if (value.size() < width) out.append(width - value.size(), '0');
    out += value;
  }
  return out;
}

std::vector<Segment> ExpandSegments(const Mpd& mpd, const Period& period, const Representation& rep,
                                    std::optional<double> now) {
  std::vector<Segment> out;
  const SegmentInfo& si = rep.segments;
  const double ts = static_cast<double>(si.timescale);
  auto push = [&](uint64_t number, uint64_t time, uint64_t dur, std::string_view media) {
    Segment s;
    s.number = number;
    s.time = time;
    s.duration = dur;
    s.start = (static_cast<double>(time) - static_cast<double>(si.presentation_time_offset)) / ts;
    auto url = FormatTemplate(media, rep, number, time);
    s.url = ResolveUrl(rep.base_url, url.value_or(std::string(media)));
    out.push_back(std::move(s));
  };
  // Period end in the period's timeline, used to bound open-ended repeats.
  std::optional<double> period_end;
  if (period.duration) period_end = *period.duration;
  else if (mpd.media_presentation_duration) period_end = *mpd.media_presentation_duration - period.computed_start;
  if (mpd.dynamic && now && mpd.availability_start_time)
    period_end = *now - *mpd.availability_start_time - period.computed_start;

  if (si.kind == SegmentInfo::Kind::kTemplate && si.has_timeline) {
    uint64_t cur = 0, number = si.start_number;
    for (size_t i = 0; i < si.timeline.size() && out.size() < kMaxSegments; ++i) {
      const TimelineEntry& e = si.timeline[i];
      if (e.t) cur = *e.t;
      uint64_t repeats;
      if (e.r >= 0) {
        repeats = static_cast<uint64_t>(e.r) + 1;
      } else if (i + 1 < si.timeline.size() && si.timeline[i + 1].t) {
        repeats = *si.timeline[i + 1].t > cur ? (*si.timeline[i + 1].t - cur + e.d - 1) / e.d : 0;
      } else if (period_end) {
        double end_ticks = *period_end * ts + static_cast<double>(si.presentation_time_offset);
        repeats = end_ticks > static_cast<double>(cur)
                      ? static_cast<uint64_t>(std::ceil((end_ticks - static_cast<double>(cur)) / static_cast<double>(e.d)))
                      : 0;
      } else {
        repeats = 1;
      }
      for (uint64_t k = 0; k < repeats && out.size() < kMaxSegments; ++k) {
        push(number++, cur, e.d, si.media);
        cur += e.d;
      }
    }
    return out;
  }
  if (si.kind == SegmentInfo::Kind::kTemplate && si.duration && *si.duration > 0) {
    const double dsec = static_cast<double>(*si.duration) / ts;
    uint64_t first = 0, count = 0;
    if (mpd.dynamic && now && mpd.availability_start_time) {
      double elapsed = *now - *mpd.availability_start_time - period.computed_start;
      if (elapsed <= 0) return out;
      // Segment k is available once its end (minus availabilityTimeOffset) has passed.
      count = static_cast<uint64_t>(std::floor((elapsed + si.availability_time_offset) / dsec + 1e-9));
      if (mpd.time_shift_buffer_depth) {
        double window_start = elapsed - *mpd.time_shift_buffer_depth;
        if (window_start > 0) first = static_cast<uint64_t>(std::floor(window_start / dsec));
      }
    } else if (period_end && *period_end > 0) {
      count = static_cast<uint64_t>(std::ceil(*period_end / dsec - 1e-9));
    } else {
      count = 1;
    }
    if (count - std::min(first, count) > kMaxSegments) first = count - kMaxSegments;
    for (uint64_t k = first; k < count; ++k)
      push(si.start_number + k, k * *si.duration + si.presentation_time_offset, *si.duration, si.media);
    return out;
  }
  if (si.kind == SegmentInfo::Kind::kList) {
    uint64_t dur = si.duration.value_or(0);
    for (size_t k = 0; k < si.list_media.size() && k < kMaxSegments; ++k) {
      Segment s;
      s.number = si.start_number + k;
      s.time = k * dur;
      s.duration = dur;
      s.start = static_cast<double>(k * dur) / ts;
      s.url = ResolveUrl(rep.base_url, si.list_media[k]);
      if (k < si.list_media_range.size()) s.range = si.list_media_range[k];
      out.push_back(std::move(s));
    }
  }
  return out;
}

std::optional<Segment> LiveEdge(const Mpd& mpd, const Period& period, const Representation& rep,
                                double now) {
  if (!mpd.availability_start_time) return std::nullopt;
  std::vector<Segment> segs = ExpandSegments(mpd, period, rep, now);
  const double ts = static_cast<double>(rep.segments.timescale);
  const double base = *mpd.availability_start_time + period.computed_start;
  for (size_t i = segs.size(); i-- > 0;) {
    double end = base + segs[i].start + static_cast<double>(segs[i].duration) / ts;
    if (end - rep.segments.availability_time_offset <= now + 1e-9) return segs[i];
  }
  return std::nullopt;
}

void Check(const Mpd& mpd, std::optional<double> reference_time, Findings* out) {
  if (!mpd.parsed) return;
  if (mpd.periods.empty()) {
    out->Add(RuleId::kDashPeriodMissing, 1, "The MPD has no Period.");
    return;
  }
  if (!mpd.dynamic && !mpd.media_presentation_duration && !mpd.minimum_update_period &&
      !mpd.periods.back().duration)
    out->Add(RuleId::kDashStaticMissingDuration, 1,
             "Static MPD without mediaPresentationDuration, minimumUpdatePeriod or a last "
             "Period@duration.");
  for (size_t i = 1; i < mpd.periods.size(); ++i) {
    const Period& prev = mpd.periods[i - 1];
    const Period& cur = mpd.periods[i];
    if (!prev.duration || !cur.start) continue;
    double delta = *cur.start - (prev.computed_start + *prev.duration);
    if (delta > 0.001)
      out->Add(RuleId::kDashPeriodGap, cur.line,
               "Period starts " + FormatNumber(delta) + " s after the previous Period ends.");
    else if (delta < -0.001)
      out->Add(RuleId::kDashPeriodOverlap, cur.line,
               "Period starts " + FormatNumber(-delta) + " s before the previous Period ends.");
  }
  if (mpd.dynamic) {
    if (mpd.utc_timings.empty())
      out->Add(RuleId::kDashUtcTimingMissing, 1, "Dynamic MPD without UTCTiming.");
    if (mpd.time_shift_buffer_depth && mpd.suggested_presentation_delay &&
        *mpd.suggested_presentation_delay > *mpd.time_shift_buffer_depth)
      out->Add(RuleId::kDashPresentationDelayExceedsTsbd, 1,
               "suggestedPresentationDelay " + FormatNumber(*mpd.suggested_presentation_delay) +
                   " s exceeds timeShiftBufferDepth " + FormatNumber(*mpd.time_shift_buffer_depth) + " s.");
    if (mpd.time_shift_buffer_depth && mpd.min_buffer_time &&
        *mpd.min_buffer_time > *mpd.time_shift_buffer_depth)
      out->Add(RuleId::kDashMinBufferExceedsTsbd, 1,
               "minBufferTime " + FormatNumber(*mpd.min_buffer_time) + " s exceeds timeShiftBufferDepth " +
                   FormatNumber(*mpd.time_shift_buffer_depth) + " s.");
  }
  for (const auto& u : mpd.utc_timings) {
    static constexpr std::string_view kSchemes[] = {
        "urn:mpeg:dash:utc:ntp:2014",       "urn:mpeg:dash:utc:sntp:2014",
        "urn:mpeg:dash:utc:http-head:2014", "urn:mpeg:dash:utc:http-xsdate:2014",
        "urn:mpeg:dash:utc:http-iso:2014",  "urn:mpeg:dash:utc:http-ntp:2014",
        "urn:mpeg:dash:utc:direct:2014"};
    if (std::find(std::begin(kSchemes), std::end(kSchemes), u.scheme) == std::end(kSchemes))
      out->Add(RuleId::kDashUtcTimingScheme, u.line, "UTCTiming scheme \"" + u.scheme + "\" is not a DASH UTC scheme.");
  }
  std::set<std::pair<int, RuleId>> reported;  // templates inherited by many Representations
  for (const auto& p : mpd.periods) {
    std::set<std::string> ids;
    for (const auto& as : p.adaptation_sets) {
      bool live_checked = false;
      for (const auto& r : as.representations) {
        if (!r.id.empty() && !ids.insert(r.id).second)
          out->Add(RuleId::kDashRepresentationIdDuplicate, r.line,
                   "Representation id \"" + r.id + "\" is used twice in this Period.", r.path);
        const SegmentInfo& si = r.segments;
        if (si.kind != SegmentInfo::Kind::kTemplate) continue;
        for (const std::string* t : {&si.media, &si.initialization}) {
          if (t->empty()) continue;
          auto problem = TemplateProblem(*t, si.has_timeline);
          if (problem && reported.insert({si.line, RuleId::kDashTemplateUnresolved}).second)
            out->Add(RuleId::kDashTemplateUnresolved, si.line,
                     "SegmentTemplate \"" + *t + "\": " + *problem + ".", r.path);
        }
        if (!si.media.empty() && !si.duration && !si.has_timeline &&
            reported.insert({si.line, RuleId::kDashTemplateNoDuration}).second)
          out->Add(RuleId::kDashTemplateNoDuration, si.line,
                   "SegmentTemplate has @media but neither @duration nor SegmentTimeline.", r.path);
        // Live edge sanity, once per AdaptationSet, for explicit timelines only (duration-based
        // templates are computed from the clock and cannot be stale or early).
        if (!mpd.dynamic || !reference_time || !mpd.availability_start_time || !si.has_timeline ||
            live_checked)
          continue;
        live_checked = true;
        std::vector<Segment> segs = ExpandSegments(mpd, p, r, std::nullopt);
        if (segs.empty()) continue;
        const double ts = static_cast<double>(si.timescale);
        const Segment& last = segs.back();
        double end = *mpd.availability_start_time + p.computed_start + last.start +
                     static_cast<double>(last.duration) / ts;
        double seg_dur = static_cast<double>(last.duration) / ts;
        if (end - si.availability_time_offset > *reference_time + seg_dur)
          out->Add(RuleId::kDashSegmentsFromFuture, si.line,
                   "Segment " + std::to_string(last.number) + " ends at " + FormatIso8601(end) +
                       ", after the reference time " + FormatIso8601(*reference_time) + ".",
                   r.path);
        double slack = mpd.minimum_update_period.value_or(0) + 2 * seg_dur;
        if (*reference_time - end > slack)
          out->Add(RuleId::kDashTimelineStale, si.line,
                   "Newest segment ended at " + FormatIso8601(end) + ", " +
                       FormatNumber(*reference_time - end) + " s before the reference time " +
                       FormatIso8601(*reference_time) + ".",
                   r.path);
      }
    }
  }
}

}  // namespace avtrace::analyzer::dash
