/* The line format of the writers' scripts (wh-evtxgen events, wh-cimspec,
 * wh-hivespec): fields separated by TABs, with \t \n \r and \\ escapes. */
#ifndef WH_GEN_SPECLINE_H
#define WH_GEN_SPECLINE_H

#include <stddef.h>

/* Splits line at TABs and undoes the escapes, in place; at most max
 * fields into out. Returns the field count (capped at max). */
size_t specline_split(char *line, char **out, size_t max);

#endif
