/* CRC-32 (IEEE 802.3 / zlib, initial 0): carry-less multiply where the CPU
 * has it, else slice-by-8. Needed by the EVTX parser itself to check
 * chunks, so it lives in core (parsers: libc only). */
#ifndef WH_CRC32_H
#define WH_CRC32_H

#include <stddef.h>
#include <stdint.h>

uint32_t wh_crc32(uint32_t crc, const void *data, size_t n);
/* The same by the tables alone (the tests hold the two side by side). */
uint32_t wh_crc32_tables(uint32_t crc, const void *data, size_t n);

#endif
