#include "daemon/sinks/spool.hpp"

#include "daemon/sinks/spool_record.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace greenrack::sinks {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr std::string_view segment_suffix = ".seg";
constexpr std::string_view acked_file = "acked";
constexpr std::size_t read_window = 256U * 1024U;
constexpr auto error_log_interval = std::chrono::seconds(60);

std::string segment_name(std::uint64_t first_seq) {
    std::string digits = std::to_string(first_seq);
    return std::string(20 - std::min<std::size_t>(20, digits.size()), '0') + digits +
           std::string(segment_suffix);
}

std::optional<std::uint64_t> parse_u64(std::string_view text) {
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
        return std::nullopt;
    }
    return value;
}

std::int64_t to_ms(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string errno_text(int err) {
    return std::strerror(err);
}

// Reads up to `size` bytes at `offset`; fewer at the end of the file. Empty on error.
std::string pread_some(int fd, std::uint64_t offset, std::size_t size) {
    std::string out(size, '\0');
    std::size_t done = 0;
    while (done < size) {
        const ssize_t n =
            ::pread(fd, out.data() + done, size - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    out.resize(done);
    return out;
}

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// Where the next record header starts at or after `from` in `data` (npos: none).
std::size_t find_magic(std::string_view data, std::size_t from) {
    return data.find("GRS1", from);
}

} // namespace

Spool::Spool(SpoolOptions options, std::string name, std::shared_ptr<spdlog::logger> logger,
             std::chrono::system_clock::time_point now)
    : options_(std::move(options)), name_(std::move(name)), logger_(std::move(logger)) {
    stats_.max_bytes = options_.max_bytes;
    // At least four segments fit under the size cap, so a drop never takes most of the data.
    options_.segment_bytes = std::clamp<std::uint64_t>(
        options_.segment_bytes, 4096, std::max<std::uint64_t>(options_.max_bytes / 4, 4096));
    std::error_code ec;
    fs::create_directories(options_.directory, ec);
    if (ec) {
        throw std::runtime_error("spool " + name_ + ": cannot create " +
                                 options_.directory.string() + ": " + ec.message());
    }
    recover(now);
    if (!open_new_segment()) {
        throw std::runtime_error("spool " + name_ + ": cannot write in " +
                                 options_.directory.string() + ": " + errno_text(errno));
    }
    last_sync_ = SteadyClock::now();
    update_stats();
}

Spool::~Spool() {
    std::lock_guard lock(mutex_);
    sync_locked(to_ms(std::chrono::system_clock::now()));
    close_active();
    if (read_fd_ >= 0) {
        ::close(read_fd_);
    }
}

void Spool::read_acked_file() {
    std::ifstream in(options_.directory / acked_file);
    if (!in) {
        return;
    }
    std::string text;
    std::getline(in, text);
    if (auto value = parse_u64(text)) {
        acked_ = *value;
        acked_synced_ = acked_;
    } else {
        logger_->warn("spool {}: {} is unreadable ({:?}); every stored record is sent again", name_,
                      (options_.directory / acked_file).string(), text);
    }
}

void Spool::write_acked_file(bool durable) {
    const fs::path tmp = options_.directory / (std::string(acked_file) + ".tmp");
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        logger_->error("spool {}: cannot write {}: {}", name_, tmp.string(), errno_text(errno));
        return;
    }
    const std::string text = std::to_string(acked_) + "\n";
    const bool ok = write_all(fd, text) && (!durable || ::fdatasync(fd) == 0);
    ::close(fd);
    std::error_code ec;
    if (ok) {
        fs::rename(tmp, options_.directory / acked_file, ec);
    }
    if (!ok || ec) {
        logger_->error("spool {}: cannot write {}: {}", name_,
                       (options_.directory / acked_file).string(),
                       ec ? ec.message() : errno_text(errno));
    }
}

std::uint64_t Spool::recover_segment(Segment& segment, bool /*last*/) {
    const int fd = ::open(segment.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        logger_->error("spool {}: cannot read {}: {}", name_, segment.path.string(),
                       errno_text(errno));
        return 0;
    }
    struct stat st {};
    ::fstat(fd, &st);
    const std::string data = pread_some(fd, 0, static_cast<std::size_t>(st.st_size));
    ::close(fd);

    std::uint64_t records = 0;
    std::uint64_t prev_seq = 0;
    std::size_t offset = 0;
    std::size_t good_end = 0;
    while (offset < data.size()) {
        const DecodeResult r = decode_record(std::string_view(data).substr(offset));
        if (r.status == DecodeStatus::ok && r.record.seq > prev_seq) {
            if (records == 0) {
                segment.first_seq = r.record.seq;
                segment.first_ts_ms = r.record.ts_ms;
            }
            ++records;
            prev_seq = r.record.seq;
            segment.last_seq = r.record.seq;
            segment.last_ts_ms = r.record.ts_ms;
            offset += r.size;
            good_end = offset;
            continue;
        }
        // Damaged: skip to the next record that decodes (a torn tail has none).
        const std::size_t next = find_magic(data, offset + 1);
        if (next == std::string::npos) {
            break;
        }
        stats_.corrupt.fetch_add(1);
        logger_->warn("spool {}: {}: damaged record at byte {} skipped", name_,
                      segment.path.string(), offset);
        offset = next;
    }
    if (good_end < data.size()) {
        // A torn append (a crash in the middle of a write): cut it off.
        if (::truncate(segment.path.c_str(), static_cast<off_t>(good_end)) == 0) {
            logger_->warn("spool {}: {}: cut off {} bytes of an incomplete record at the end",
                          name_, segment.path.string(), data.size() - good_end);
        }
    }
    segment.bytes = good_end;
    return records;
}

void Spool::recover(std::chrono::system_clock::time_point now) {
    read_acked_file();
    std::vector<Segment> found;
    std::uint64_t highest_name = 0;
    for (const auto& entry : fs::directory_iterator(options_.directory)) {
        const std::string file = entry.path().filename().string();
        if (file.ends_with(".tmp")) {
            std::error_code ec;
            fs::remove(entry.path(), ec);
            continue;
        }
        if (!file.ends_with(segment_suffix)) {
            continue;
        }
        const auto seq =
            parse_u64(std::string_view(file).substr(0, file.size() - segment_suffix.size()));
        if (!seq || !entry.is_regular_file()) {
            continue;
        }
        Segment segment;
        segment.path = entry.path();
        segment.first_seq = *seq;
        highest_name = std::max(highest_name, *seq);
        found.push_back(std::move(segment));
    }
    std::sort(found.begin(), found.end(),
              [](const Segment& a, const Segment& b) { return a.first_seq < b.first_seq; });
    std::uint64_t last_seq = 0;
    std::uint64_t pending = 0;
    for (std::size_t i = 0; i < found.size(); ++i) {
        Segment& segment = found[i];
        const std::uint64_t records = recover_segment(segment, i + 1 == found.size());
        std::error_code ec;
        if (records == 0 || segment.last_seq <= acked_ || segment.last_seq <= last_seq) {
            fs::remove(segment.path, ec); // empty, delivered, or out of order
            continue;
        }
        last_seq = segment.last_seq;
        pending += segment.last_seq - std::max(acked_, segment.first_seq - 1);
        segments_.push_back(std::move(segment));
    }
    // Sequence numbers never go back: not below a segment's name, the records, or the cursor.
    next_seq_ = std::max({acked_, last_seq, highest_name > 0 ? highest_name - 1 : 0}) + 1;
    read_seq_ = acked_ + 1;
    for (const auto& segment : segments_) {
        total_bytes_ += segment.bytes;
    }
    if (pending > 0) {
        logger_->info("spool {}: {} records from before the restart to send (sequence {}..{}, "
                      "{} bytes in {} segments)",
                      name_, pending, std::max(acked_ + 1, segments_.front().first_seq), last_seq,
                      total_bytes_, segments_.size());
    }
    apply_caps(to_ms(now));
}

bool Spool::open_new_segment() {
    Segment segment;
    segment.first_seq = next_seq_;
    segment.path = options_.directory / segment_name(next_seq_);
    const int fd =
        ::open(segment.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) {
        return false;
    }
    active_fd_ = fd;
    segments_.push_back(std::move(segment));
    return true;
}

void Spool::close_active() {
    if (active_fd_ < 0) {
        return;
    }
    if (data_dirty_) {
        ::fdatasync(active_fd_);
        data_dirty_ = false;
    }
    ::close(active_fd_);
    active_fd_ = -1;
    // An active segment that never got a record is not kept.
    if (!segments_.empty() && segments_.back().last_seq == 0) {
        std::error_code ec;
        fs::remove(segments_.back().path, ec);
        segments_.pop_back();
    }
}

std::uint64_t Spool::append(std::string_view payload, std::chrono::system_clock::time_point now) {
    return append(std::vector<std::string_view>{payload}, now);
}

std::uint64_t Spool::append(const std::vector<std::string_view>& payloads,
                            std::chrono::system_clock::time_point now) {
    if (payloads.empty()) {
        return 0;
    }
    const std::int64_t now_ms = to_ms(now);
    std::lock_guard lock(mutex_);
    std::string buffer;
    std::uint64_t in_buffer = 0;
    std::uint64_t last = 0;
    // Writes what is encoded as one write() at the end of the active segment.
    const auto flush = [&]() -> bool {
        if (in_buffer == 0) {
            return true;
        }
        const std::uint64_t count = std::exchange(in_buffer, 0);
        if (active_fd_ < 0 && !open_new_segment()) {
            stats_.write_errors.fetch_add(count);
            log_error_limited("cannot create a segment in " + options_.directory.string() + ": " +
                              errno_text(errno));
            buffer.clear();
            return false;
        }
        Segment& active = segments_.back();
        if (!write_all(active_fd_, buffer)) {
            const int err = errno;
            // Leave no torn record behind: later appends must stay readable.
            if (::ftruncate(active_fd_, static_cast<off_t>(active.bytes)) != 0) {
                close_active();
            }
            stats_.write_errors.fetch_add(count);
            log_error_limited("cannot append to " + active.path.string() + ": " + errno_text(err));
            buffer.clear();
            return false;
        }
        if (active.last_seq == 0) {
            active.first_seq = next_seq_;
            active.first_ts_ms = now_ms;
        }
        next_seq_ += count;
        active.last_seq = next_seq_ - 1;
        active.last_ts_ms = now_ms;
        active.bytes += buffer.size();
        total_bytes_ += buffer.size();
        data_dirty_ = true;
        stats_.appended.fetch_add(count);
        last = next_seq_ - 1;
        buffer.clear();
        return true;
    };
    for (const std::string_view payload : payloads) {
        if (payload.size() > max_record_payload) {
            stats_.write_errors.fetch_add(1);
            log_error_limited("a record of " + std::to_string(payload.size()) +
                              " bytes is larger than the limit; not stored");
            continue;
        }
        const std::uint64_t active_bytes = active_fd_ >= 0 ? segments_.back().bytes : 0;
        if (active_bytes + buffer.size() >= options_.segment_bytes) {
            flush();
            if (active_fd_ >= 0 && segments_.back().bytes >= options_.segment_bytes) {
                close_active();
            }
            apply_caps(now_ms);
        }
        encode_record(buffer, next_seq_ + in_buffer, now_ms, payload);
        ++in_buffer;
    }
    flush();
    apply_caps(now_ms);
    maybe_sync(now);
    update_stats();
    return last;
}

void Spool::log_error_limited(const std::string& text) {
    const auto now = SteadyClock::now();
    if (last_error_log_ == SteadyClock::time_point{} ||
        now - last_error_log_ >= error_log_interval) {
        last_error_log_ = now;
        logger_->error("spool {}: {} (records lost so far: {})", name_, text,
                       stats_.dropped.load() + stats_.write_errors.load() + stats_.corrupt.load());
    }
}

void Spool::drop_front(bool by_age) {
    if (segments_.size() == 1 && active_fd_ >= 0) {
        // The only segment is the one being written: start another, then drop this one.
        close_active();
        if (segments_.empty()) {
            open_new_segment();
            return;
        }
        open_new_segment();
    }
    Segment segment = std::move(segments_.front());
    segments_.pop_front();
    if (segment.last_seq > acked_) {
        const std::uint64_t lost = segment.last_seq - std::max(acked_, segment.first_seq - 1);
        stats_.dropped.fetch_add(lost);
        if (by_age) {
            stats_.dropped_age.fetch_add(lost);
        }
        logger_->warn("spool {}: {} cap reached: dropped {} undelivered records (sequence "
                      "{}..{}, the oldest; {} dropped since start)",
                      name_, by_age ? "age" : "size", lost, std::max(acked_ + 1, segment.first_seq),
                      segment.last_seq, stats_.dropped.load());
        acked_ = segment.last_seq;
    }
    if (read_seq_ <= segment.last_seq) {
        read_seq_ = segment.last_seq + 1;
    }
    remove_segment_file(segment);
}

void Spool::remove_segment_file(const Segment& segment) {
    read_known_ = false;
    if (read_fd_ >= 0 && read_path_ == segment.path) {
        ::close(read_fd_);
        read_fd_ = -1;
        read_path_.clear();
    }
    std::error_code ec;
    fs::remove(segment.path, ec);
    total_bytes_ -= std::min(total_bytes_, segment.bytes);
}

void Spool::apply_caps(std::int64_t now_ms) {
    while (total_bytes_ > options_.max_bytes && !segments_.empty() &&
           !(segments_.size() == 1 && segments_.front().last_seq == 0)) {
        drop_front(false);
    }
    const std::int64_t oldest_allowed =
        now_ms - std::chrono::duration_cast<std::chrono::milliseconds>(options_.max_age).count();
    while (!segments_.empty() && segments_.front().last_seq != 0 &&
           segments_.front().last_ts_ms < oldest_allowed) {
        drop_front(true);
    }
    // Delivered segments go once the cursor that says so is on disk.
    while (segments_.size() > 1 && segments_.front().last_seq <= acked_synced_) {
        remove_segment_file(segments_.front());
        segments_.pop_front();
    }
}

void Spool::maybe_sync(std::chrono::system_clock::time_point now) {
    if (SteadyClock::now() - last_sync_ >= options_.sync_interval) {
        sync_locked(to_ms(now));
    }
}

void Spool::sync(std::chrono::system_clock::time_point now) {
    std::lock_guard lock(mutex_);
    sync_locked(to_ms(now));
    update_stats();
}

void Spool::sync_locked(std::int64_t now_ms) {
    last_sync_ = SteadyClock::now();
    if (data_dirty_ && active_fd_ >= 0) {
        ::fdatasync(active_fd_);
        data_dirty_ = false;
    }
    if (acked_ != acked_synced_) {
        write_acked_file(true);
        acked_synced_ = acked_;
    }
    apply_caps(now_ms);
}

void Spool::ack(std::uint64_t seq) {
    std::lock_guard lock(mutex_);
    seq = std::min(seq, next_seq_ - 1);
    if (seq <= acked_) {
        return;
    }
    stats_.acked.fetch_add(seq - acked_);
    acked_ = seq;
    if (read_seq_ <= acked_) {
        read_seq_ = acked_ + 1;
        read_known_ = false;
    }
    maybe_sync(std::chrono::system_clock::now());
    update_stats();
}

void Spool::rewind() {
    std::lock_guard lock(mutex_);
    if (read_seq_ != acked_ + 1) {
        read_seq_ = acked_ + 1;
        read_known_ = false;
    }
}

std::uint64_t Spool::unread() const {
    std::lock_guard lock(mutex_);
    return next_seq_ > read_seq_ ? next_seq_ - read_seq_ : 0;
}

bool Spool::seek_read(std::uint64_t seq) {
    for (std::size_t i = 0; i < segments_.size(); ++i) {
        if (segments_[i].last_seq >= seq) {
            read_segment_ = i;
            read_offset_ = 0; // records before `seq` are skipped while reading
            read_known_ = true;
            return true;
        }
    }
    return false;
}

std::vector<SpoolEntry> Spool::read(std::size_t max_records, std::size_t max_bytes) {
    std::lock_guard lock(mutex_);
    std::vector<SpoolEntry> out;
    std::size_t payload_bytes = 0;
    std::string window;
    std::uint64_t window_offset = 0;
    while (out.size() < max_records && read_seq_ < next_seq_) {
        if (!read_known_ && !seek_read(read_seq_)) {
            break;
        }
        const Segment& segment = segments_[read_segment_];
        if (read_offset_ >= segment.bytes) {
            if (read_segment_ + 1 >= segments_.size()) {
                break;
            }
            ++read_segment_;
            read_offset_ = 0;
            window.clear();
            continue;
        }
        if (read_path_ != segment.path) {
            if (read_fd_ >= 0) {
                ::close(read_fd_);
            }
            read_fd_ = ::open(segment.path.c_str(), O_RDONLY | O_CLOEXEC);
            read_path_ = segment.path;
            window.clear();
            if (read_fd_ < 0) {
                log_error_limited("cannot read " + segment.path.string() + ": " +
                                  errno_text(errno));
                read_path_.clear();
                break;
            }
        }
        // Decode from a window of the file; refill when the record is not in it.
        const auto in_window = [&] {
            return read_offset_ >= window_offset && read_offset_ - window_offset < window.size();
        };
        if (!in_window()) {
            window_offset = read_offset_;
            window = pread_some(read_fd_, read_offset_,
                                static_cast<std::size_t>(std::min<std::uint64_t>(
                                    read_window, segment.bytes - read_offset_)));
        }
        std::string_view view =
            std::string_view(window).substr(static_cast<std::size_t>(read_offset_ - window_offset));
        DecodeResult r = decode_record(view);
        if (r.status == DecodeStatus::incomplete) {
            // The window ends inside this record, in its header or in its payload: read again
            // from the record's start (whole segments only hold whole records).
            const std::uint64_t left = segment.bytes - read_offset_;
            const auto want = static_cast<std::size_t>(
                std::min<std::uint64_t>(std::max<std::uint64_t>(read_window, r.needed), left));
            if (want > view.size()) {
                window_offset = read_offset_;
                window = pread_some(read_fd_, read_offset_, want);
                view = window;
                r = decode_record(view);
            }
        }
        if (r.status != DecodeStatus::ok) {
            // Damaged on disk since it was written: skip to the next readable record.
            stats_.corrupt.fetch_add(1);
            const std::string rest = pread_some(
                read_fd_, read_offset_, static_cast<std::size_t>(segment.bytes - read_offset_));
            const std::size_t next = find_magic(rest, 1);
            log_error_limited("damaged record in " + segment.path.string() + " at byte " +
                              std::to_string(read_offset_) + " skipped");
            read_offset_ = next == std::string::npos ? segment.bytes : read_offset_ + next;
            window.clear();
            continue;
        }
        if (r.record.seq < read_seq_) {
            read_offset_ += r.size;
            continue;
        }
        if (!out.empty() && payload_bytes + r.record.payload.size() > max_bytes) {
            break;
        }
        payload_bytes += r.record.payload.size();
        out.push_back(SpoolEntry{r.record.seq, r.record.ts_ms, std::string(r.record.payload)});
        read_seq_ = r.record.seq + 1;
        read_offset_ += r.size;
    }
    return out;
}

void Spool::update_stats() {
    stats_.pending = next_seq_ - 1 - std::min(acked_, next_seq_ - 1);
    stats_.bytes = total_bytes_;
    stats_.last_seq = next_seq_ - 1;
    std::int64_t oldest = 0;
    for (const auto& segment : segments_) {
        if (segment.last_seq > acked_) {
            oldest = segment.first_ts_ms;
            break;
        }
    }
    stats_.oldest_pending_ms = oldest;
}

} // namespace greenrack::sinks
