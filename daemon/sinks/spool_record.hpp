#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace greenrack::sinks {

// One record of the store-and-forward spool, as it is stored on disk (little-endian):
//
//   offset  size  field
//        0     4  magic "GRS1"
//        4     4  payload length in bytes (at most max_record_payload)
//        8     8  sequence number (per spool, +1 per record, never reused)
//       16     8  time the record was appended, ms since the Unix epoch (UTC)
//       24     4  CRC-32 (IEEE) of bytes 4..23 and the payload
//       28     n  payload
//
// A record is written with one write() at the end of a segment file, so a crash can only
// leave a torn record at the very end: it is recognised (incomplete or bad checksum) and cut
// off when the spool is opened again. Pure: no I/O.
inline constexpr std::size_t record_header_size = 28;
inline constexpr std::size_t max_record_payload = 16U * 1024U * 1024U;

struct RecordView {
    std::uint64_t seq = 0;
    std::int64_t ts_ms = 0;
    std::string_view payload;
};

enum class DecodeStatus : std::uint8_t {
    ok,         // a whole, intact record
    incomplete, // the data ends inside the record (a torn append, or more to read)
    corrupt,    // wrong magic, impossible length or checksum mismatch
};

struct DecodeResult {
    DecodeStatus status = DecodeStatus::incomplete;
    RecordView record;      // valid when ok (views into the decoded buffer)
    std::size_t size = 0;   // bytes the record takes when ok
    std::size_t needed = 0; // when incomplete and the header was readable: the record's size
};

// Appends the encoded record to `out`.
void encode_record(std::string& out, std::uint64_t seq, std::int64_t ts_ms,
                   std::string_view payload);
// Decodes the record at the start of `data`.
DecodeResult decode_record(std::string_view data);

} // namespace greenrack::sinks
