#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <spdlog/logger.h>
#include <string>
#include <string_view>
#include <vector>

namespace greenrack::sinks {

struct SpoolOptions {
    std::filesystem::path directory;
    std::uint64_t max_bytes = 256ULL * 1024 * 1024; // on disk; beyond it the oldest are dropped
    std::chrono::milliseconds max_age{std::chrono::hours(24 * 7)}; // older records are dropped
    std::uint64_t segment_bytes = 4ULL * 1024 * 1024; // a new segment file starts beyond this
    std::chrono::milliseconds sync_interval{1'000};   // fdatasync + cursor at most this often
};

// Counters for /metrics and the self line (read from any thread).
struct SpoolStats {
    std::atomic<std::uint64_t> appended{0};         // records appended since start
    std::atomic<std::uint64_t> acked{0};            // records delivered since start
    std::atomic<std::uint64_t> dropped{0};          // undelivered records dropped by a cap
    std::atomic<std::uint64_t> dropped_age{0};      // ... of them by max_age
    std::atomic<std::uint64_t> corrupt{0};          // damaged records skipped on open
    std::atomic<std::uint64_t> write_errors{0};     // records that could not be written
    std::atomic<std::uint64_t> pending{0};          // records not yet delivered
    std::atomic<std::uint64_t> bytes{0};            // bytes on disk (all segments)
    std::atomic<std::int64_t> oldest_pending_ms{0}; // append time of the oldest pending, 0: none
    std::atomic<std::uint64_t> last_seq{0};         // sequence number of the newest record
    std::atomic<std::uint64_t> max_bytes{0};        // the size cap (SpoolOptions::max_bytes)
};

struct SpoolEntry {
    std::uint64_t seq = 0;
    std::int64_t ts_ms = 0; // when it was appended (UTC ms)
    std::string payload;
};

// A bounded, crash-safe, on-disk FIFO of records: the store-and-forward queue of one sink.
// * Records are appended to segment files `<first seq>.seg` in `directory` (one write() per
//   append, checksummed, see spool_record.hpp) and handed out in order by read(); the sink
//   calls ack() once the far end has them. A record is never handed out again after ack().
// * Crash safety: what was appended survives a kill -9 (it is in the kernel), and a power
//   loss up to the last sync (sync_interval). The acknowledged position is written to
//   `acked` (tmp + rename) with each sync; after a crash the records delivered since the last
//   sync are sent again (at-least-once: duplicates possible, gaps not). A torn record at the
//   end of a segment is cut off on open; other damaged records are skipped and counted.
// * Caps: beyond max_bytes on disk, or older than max_age, whole segments are dropped, oldest
//   first, and their undelivered records counted in `dropped` and logged. Nothing else drops.
// * Sequence numbers increase by one per record and continue across restarts.
// Thread-safe. File errors after start-up are logged and counted, never thrown.
class Spool {
public:
    // Creates the directory when needed and recovers what a previous run left. Throws
    // std::runtime_error when the directory cannot be used (start-up only).
    Spool(SpoolOptions options, std::string name, std::shared_ptr<spdlog::logger> logger,
          std::chrono::system_clock::time_point now);
    ~Spool();
    Spool(const Spool&) = delete;
    Spool& operator=(const Spool&) = delete;

    // Appends one record per payload with a single write; returns the sequence number of the
    // last one (0 when nothing could be written: counted in write_errors).
    std::uint64_t append(const std::vector<std::string_view>& payloads,
                         std::chrono::system_clock::time_point now);
    std::uint64_t append(std::string_view payload, std::chrono::system_clock::time_point now);
    // The next records after the read cursor (at most max_records, and at most max_bytes of
    // payload unless the first alone is larger); the cursor moves past them.
    std::vector<SpoolEntry> read(std::size_t max_records, std::size_t max_bytes);
    // Every record up to and including `seq` was delivered.
    void ack(std::uint64_t seq);
    // The read cursor goes back to the first record not acknowledged (after a lost connection).
    void rewind();
    // Records after the read cursor.
    std::uint64_t unread() const;
    // Syncs the data and the acknowledged position, deletes delivered segments and applies
    // max_age. Called by append/ack every sync_interval; call it when stopping.
    void sync(std::chrono::system_clock::time_point now);

    const SpoolStats& stats() const { return stats_; }
    const std::string& name() const { return name_; }
    const SpoolOptions& options() const { return options_; }

private:
    struct Segment {
        std::filesystem::path path;
        std::uint64_t first_seq = 0; // the seq its name promises (first record's seq)
        std::uint64_t last_seq = 0;  // 0: no record yet
        std::uint64_t bytes = 0;
        std::int64_t last_ts_ms = 0;
        std::int64_t first_ts_ms = 0;
    };

    void recover(std::chrono::system_clock::time_point now);
    std::uint64_t recover_segment(Segment& segment, bool last);
    void read_acked_file();
    void write_acked_file(bool durable);
    bool open_new_segment();
    void close_active();
    void drop_front(bool by_age);
    // Deletes the file of a segment leaving the spool (closing the read side when it is open).
    void remove_segment_file(const Segment& segment);
    void apply_caps(std::int64_t now_ms);
    void maybe_sync(std::chrono::system_clock::time_point now);
    void sync_locked(std::int64_t now_ms);
    void update_stats();
    void log_error_limited(const std::string& text);
    bool seek_read(std::uint64_t seq);

    SpoolOptions options_;
    std::string name_;
    std::shared_ptr<spdlog::logger> logger_;
    SpoolStats stats_;

    mutable std::mutex mutex_;
    std::deque<Segment> segments_; // oldest first; back() is the active one when active_fd_ >= 0
    int active_fd_ = -1;
    std::uint64_t next_seq_ = 1;
    std::uint64_t total_bytes_ = 0;
    std::uint64_t acked_ = 0;        // every seq <= acked_ is delivered (or dropped)
    std::uint64_t acked_synced_ = 0; // acked_ as last written to the `acked` file
    bool data_dirty_ = false;
    std::chrono::steady_clock::time_point last_sync_{};

    // Read cursor: the next seq to hand out, and where it is when known.
    std::uint64_t read_seq_ = 1;
    std::size_t read_segment_ = 0; // index in segments_ (valid while read_known_)
    std::uint64_t read_offset_ = 0;
    bool read_known_ = false;
    int read_fd_ = -1;
    std::filesystem::path read_path_;
    std::chrono::steady_clock::time_point last_error_log_{};
};

} // namespace greenrack::sinks
