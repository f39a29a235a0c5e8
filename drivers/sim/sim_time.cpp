#include "drivers/sim/sim_time.hpp"

#include <cstdio>

namespace greenrack::sim {

namespace {

// Reads exactly `width` decimal digits at text[pos].
std::optional<int> digits(std::string_view text, std::size_t pos, std::size_t width) {
    if (pos + width > text.size()) {
        return std::nullopt;
    }
    int value = 0;
    for (std::size_t i = pos; i < pos + width; ++i) {
        if (text[i] < '0' || text[i] > '9') {
            return std::nullopt;
        }
        value = value * 10 + (text[i] - '0');
    }
    return value;
}

bool expect(std::string_view text, std::size_t pos, char c) {
    return pos < text.size() && (text[pos] == c || (c == 'T' && text[pos] == 't'));
}

} // namespace

std::optional<SimTime> parse_rfc3339_utc(std::string_view text) {
    using namespace std::chrono;
    auto y = digits(text, 0, 4);
    auto mo = digits(text, 5, 2);
    auto d = digits(text, 8, 2);
    auto h = digits(text, 11, 2);
    auto mi = digits(text, 14, 2);
    auto s = digits(text, 17, 2);
    if (!y || !mo || !d || !h || !mi || !s || !expect(text, 4, '-') || !expect(text, 7, '-') ||
        !expect(text, 10, 'T') || !expect(text, 13, ':') || !expect(text, 16, ':')) {
        return std::nullopt;
    }
    const year_month_day date{year{*y}, month{static_cast<unsigned>(*mo)},
                              day{static_cast<unsigned>(*d)}};
    if (!date.ok() || *h > 23 || *mi > 59 || *s > 59) {
        return std::nullopt;
    }
    std::size_t pos = 19;
    int millis = 0;
    if (pos < text.size() && text[pos] == '.') {
        ++pos;
        int scale = 100;
        std::size_t count = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            millis += (text[pos] - '0') * scale;
            scale /= 10;
            ++pos;
            ++count;
        }
        if (count == 0) {
            return std::nullopt;
        }
    }
    const std::string_view zone = text.substr(pos);
    if (zone != "Z" && zone != "z" && zone != "+00:00") {
        return std::nullopt;
    }
    return SimTime{sys_days{date}} + hours{*h} + minutes{*mi} + seconds{*s} + milliseconds{millis};
}

std::string format_rfc3339_utc(SimTime time) {
    using namespace std::chrono;
    const auto day_start = floor<days>(time);
    const year_month_day date{day_start};
    const hh_mm_ss<milliseconds> clock{time - day_start};
    char buffer[40];
    const long ms = static_cast<long>(clock.subseconds().count());
    if (ms == 0) {
        std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ",
                      static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                      static_cast<unsigned>(date.day()), static_cast<long>(clock.hours().count()),
                      static_cast<long>(clock.minutes().count()),
                      static_cast<long>(clock.seconds().count()));
    } else {
        std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02ld:%02ld:%02ld.%03ldZ",
                      static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                      static_cast<unsigned>(date.day()), static_cast<long>(clock.hours().count()),
                      static_cast<long>(clock.minutes().count()),
                      static_cast<long>(clock.seconds().count()), ms);
    }
    return buffer;
}

int day_of_year(SimTime time) {
    using namespace std::chrono;
    const auto today = floor<days>(time);
    const year_month_day date{today};
    const sys_days new_year{date.year() / January / 1};
    return static_cast<int>((today - new_year).count()) + 1;
}

double utc_hours(SimTime time) {
    using namespace std::chrono;
    return duration<double, std::ratio<3600>>(time - floor<days>(time)).count();
}

} // namespace greenrack::sim
