#pragma once

#include <cstdint>
#include <string_view>

namespace greenrack::sinks {

// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320: the CRC of zlib, PNG and
// boost::crc_32_type), computed eight bytes at a time ("slicing-by-8"): several times faster
// than a byte-table CRC on the spool's records. Feed a record in pieces by passing the previous
// result as `crc` (0 to start). Pure.
std::uint32_t crc32(std::string_view data, std::uint32_t crc = 0);

} // namespace greenrack::sinks
