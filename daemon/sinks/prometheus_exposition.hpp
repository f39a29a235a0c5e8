#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace greenrack::sinks {

// Prometheus text exposition format 0.0.4: https://prometheus.io/docs/instrumenting/
// exposition_formats/ (checked with promtool 2.42 `check metrics`).

enum class MetricType : std::uint8_t { counter, gauge, histogram };

struct Label {
    std::string name;
    std::string value;
};
using Labels = std::vector<Label>;

// The content type of the text this writer produces.
inline constexpr std::string_view exposition_content_type =
    "text/plain; version=0.0.4; charset=utf-8";

// Collects samples by family and writes them as one text document:
// * every family is declared once with its type and help; "# HELP" and "# TYPE" are written
//   once, right before the family's samples, families in declaration order and samples in the
//   order they were added (adding to a family later still groups the sample with its family);
// * a declared family without samples is left out;
// * label values and help texts are escaped; invalid UTF-8 is replaced by U+FFFD;
// * the document ends with "\n".
// Misuse is a programming error and throws std::invalid_argument: an invalid metric or label
// name, a counter whose name does not end in "_total", a family declared twice with another
// type, a sample for an undeclared family or of the wrong kind, a duplicate label name, a
// histogram labelled "le" or whose counts do not match its bounds.
class ExpositionWriter {
public:
    void declare(std::string_view name, MetricType type, std::string_view help);

    // One counter or gauge sample.
    void sample(std::string_view name, const Labels& labels, double value);

    // One histogram: `bounds` are the finite upper bounds in increasing order, `counts` the
    // observations per bucket, not cumulative (bounds.size() + 1 entries, the last one above
    // every bound). Writes the cumulative `_bucket{le=...}` series including le="+Inf", then
    // `_sum` and `_count` (= the number of observations).
    void histogram(std::string_view name, const Labels& labels, std::span<const double> bounds,
                   std::span<const std::uint64_t> counts, double sum);

    std::string text() const;

private:
    struct Family {
        std::string name;
        MetricType type = MetricType::gauge;
        std::string help;
        std::string samples; // rendered sample lines
    };

    Family& find(std::string_view name, bool histogram);

    std::vector<Family> families_;
    std::map<std::string, std::size_t, std::less<>> index_;
};

// A sample value as Prometheus parses it: shortest round-trip decimal, "+Inf", "-Inf", "NaN".
std::string format_value(double value);
// Label value escaping: backslash, double quote and line feed.
std::string escape_label_value(std::string_view value);
// HELP text escaping: backslash and line feed.
std::string escape_help(std::string_view text);

} // namespace greenrack::sinks
