#include "daemon/sinks/prometheus_exposition.hpp"

#include "daemon/sinks/utf8.hpp"

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace greenrack::sinks {

namespace {

bool name_start(char c, bool colon_ok) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':');
}

bool name_char(char c, bool colon_ok) {
    return name_start(c, colon_ok) || (c >= '0' && c <= '9');
}

bool valid_name(std::string_view name, bool colon_ok) {
    if (name.empty() || !name_start(name.front(), colon_ok)) {
        return false;
    }
    for (char c : name) {
        if (!name_char(c, colon_ok)) {
            return false;
        }
    }
    return true;
}

// Escapes `text`; `quote` also escapes double quotes (label values).
std::string escape(std::string_view text, bool quote) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t length = utf8_sequence_length(text, i);
        if (length == 0) {
            out += "\xEF\xBF\xBD"; // U+FFFD
            ++i;
            continue;
        }
        const char c = text[i];
        if (length == 1 && c == '\\') {
            out += "\\\\";
        } else if (length == 1 && c == '\n') {
            out += "\\n";
        } else if (length == 1 && quote && c == '"') {
            out += "\\\"";
        } else {
            out.append(text.substr(i, length));
        }
        i += length;
    }
    return out;
}

std::string_view type_name(MetricType type) {
    switch (type) {
    case MetricType::counter:
        return "counter";
    case MetricType::gauge:
        return "gauge";
    case MetricType::histogram:
        return "histogram";
    }
    return "untyped";
}

void check_labels(const Labels& labels, bool histogram) {
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const auto& name = labels[i].name;
        if (!valid_name(name, false) || name.starts_with("__")) {
            throw std::invalid_argument("invalid label name \"" + name + "\"");
        }
        if (histogram && name == "le") {
            throw std::invalid_argument("a histogram cannot carry the label \"le\"");
        }
        for (std::size_t k = 0; k < i; ++k) {
            if (labels[k].name == name) {
                throw std::invalid_argument("duplicate label \"" + name + "\"");
            }
        }
    }
}

// "name{a="x",b="y"} value\n"; `extra` is one more label appended (le), when not empty.
void write_line(std::string& out, std::string_view name, const Labels& labels,
                std::string_view extra_name, std::string_view extra_value, std::string_view value) {
    out += name;
    if (!labels.empty() || !extra_name.empty()) {
        out += '{';
        bool first = true;
        for (const auto& label : labels) {
            if (!first) {
                out += ',';
            }
            first = false;
            out += label.name;
            out += "=\"";
            out += escape_label_value(label.value);
            out += '"';
        }
        if (!extra_name.empty()) {
            if (!first) {
                out += ',';
            }
            out += extra_name;
            out += "=\"";
            out += extra_value;
            out += '"';
        }
        out += '}';
    }
    out += ' ';
    out += value;
    out += '\n';
}

} // namespace

std::string format_value(double value) {
    if (std::isnan(value)) {
        return "NaN";
    }
    if (std::isinf(value)) {
        return value > 0 ? "+Inf" : "-Inf";
    }
    char buffer[64];
    // Whole numbers below 2^53 in plain digits (easier to read than 1.8e+08), anything else in
    // the shortest form that reads back as the same double.
    const bool whole = std::fabs(value) < 9007199254740992.0 && value == std::trunc(value);
    const auto result =
        whole ? std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::fixed)
              : std::to_chars(buffer, buffer + sizeof(buffer), value);
    return std::string(buffer, result.ptr);
}

std::string escape_label_value(std::string_view value) {
    return escape(value, true);
}

std::string escape_help(std::string_view text) {
    return escape(text, false);
}

void ExpositionWriter::declare(std::string_view name, MetricType type, std::string_view help) {
    if (!valid_name(name, true)) {
        throw std::invalid_argument("invalid metric name \"" + std::string(name) + "\"");
    }
    if (type == MetricType::counter && !name.ends_with("_total")) {
        throw std::invalid_argument("counter \"" + std::string(name) + "\" must end in _total");
    }
    if (auto it = index_.find(name); it != index_.end()) {
        if (families_[it->second].type != type) {
            throw std::invalid_argument("metric \"" + std::string(name) +
                                        "\" declared again with another type");
        }
        return;
    }
    index_.emplace(std::string(name), families_.size());
    families_.push_back(Family{std::string(name), type, std::string(help), {}});
}

ExpositionWriter::Family& ExpositionWriter::find(std::string_view name, bool histogram) {
    auto it = index_.find(name);
    if (it == index_.end()) {
        throw std::invalid_argument("metric \"" + std::string(name) + "\" was not declared");
    }
    Family& family = families_[it->second];
    if ((family.type == MetricType::histogram) != histogram) {
        throw std::invalid_argument("metric \"" + std::string(name) + "\" is a " +
                                    std::string(type_name(family.type)));
    }
    return family;
}

void ExpositionWriter::sample(std::string_view name, const Labels& labels, double value) {
    Family& family = find(name, false);
    check_labels(labels, false);
    write_line(family.samples, family.name, labels, {}, {}, format_value(value));
}

void ExpositionWriter::histogram(std::string_view name, const Labels& labels,
                                 std::span<const double> bounds,
                                 std::span<const std::uint64_t> counts, double sum) {
    Family& family = find(name, true);
    check_labels(labels, true);
    if (counts.size() != bounds.size() + 1) {
        throw std::invalid_argument("histogram \"" + std::string(name) +
                                    "\": counts must have one entry per bound plus one");
    }
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) {
            throw std::invalid_argument("histogram \"" + std::string(name) +
                                        "\": bounds must be finite and increasing");
        }
    }
    const std::string bucket = family.name + "_bucket";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        cumulative += counts[i];
        write_line(family.samples, bucket, labels, "le", format_value(bounds[i]),
                   format_value(static_cast<double>(cumulative)));
    }
    cumulative += counts.back();
    write_line(family.samples, bucket, labels, "le", "+Inf",
               format_value(static_cast<double>(cumulative)));
    write_line(family.samples, family.name + "_sum", labels, {}, {}, format_value(sum));
    write_line(family.samples, family.name + "_count", labels, {}, {},
               format_value(static_cast<double>(cumulative)));
}

std::string ExpositionWriter::text() const {
    // One allocation of the final size: on a site of a thousand devices the text is megabytes,
    // and growing it by doubling would hold up to three copies at once.
    std::size_t size = 0;
    for (const auto& family : families_) {
        if (!family.samples.empty()) {
            size += 2 * family.name.size() + family.help.size() * 2 + 32 + family.samples.size();
        }
    }
    std::string out;
    out.reserve(size);
    for (const auto& family : families_) {
        if (family.samples.empty()) {
            continue;
        }
        out += "# HELP ";
        out += family.name;
        out += ' ';
        out += escape_help(family.help);
        out += "\n# TYPE ";
        out += family.name;
        out += ' ';
        out += type_name(family.type);
        out += '\n';
        out += family.samples;
    }
    return out;
}

} // namespace greenrack::sinks
