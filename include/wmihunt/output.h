/* Writers of records: text for people, JSON lines / JSON / CSV for tools.
 * Output is always safe: JSON is valid UTF-8 with control characters
 * escaped, CSV cells that a spreadsheet would run as formulas are
 * neutralised, and text never passes control characters to a terminal. */
#ifndef WMIHUNT_OUTPUT_H
#define WMIHUNT_OUTPUT_H

#include <stdio.h>
#include "wmihunt/record.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wh_format { WH_FMT_TEXT, WH_FMT_JSONL, WH_FMT_JSON, WH_FMT_CSV } wh_format;

typedef struct wh_writer wh_writer;

/* Parses "text", "jsonl", "json", "csv"; false when unknown. */
bool wh_format_parse(const char *s, wh_format *out);

/* single: with WH_FMT_JSON, write one object rather than an array. */
wh_writer *wh_writer_new(FILE *f, wh_format fmt, bool single);
/* A wh_record_fn: writes one record; returns nonzero on a write error. */
int wh_writer_record(void *writer, const wh_record *rec);
/* Closes the JSON array etc.; returns the count of records written. */
size_t wh_writer_finish(wh_writer *w);
void wh_writer_free(wh_writer *w);

/* The writers' escaping, for output that is not a record (timelines, the
 * hunt report): a quoted JSON string (valid UTF-8, controls escaped), an
 * RFC 4180 CSV cell (formulas neutralised, controls escaped), and text
 * with nothing a terminal would act on. */
void wh_out_json_str(FILE *f, const char *s, size_t n);
void wh_out_csv_cell(FILE *f, const char *s, size_t n);
void wh_out_text(FILE *f, const char *s, size_t n);
/* The same, cut after about max bytes (at a character boundary) with
 * "... (cut: N bytes in all, sha256 H)": a terminal is no place for a
 * megabyte script, and the hash lets the analyst match the whole value in
 * the JSONL output. The text writer cuts string values at
 * WH_OUT_TEXT_MAX. */
#define WH_OUT_TEXT_MAX 4096u
void wh_out_text_cut(FILE *f, const char *s, size_t n, size_t max);

#ifdef __cplusplus
}
#endif
#endif
