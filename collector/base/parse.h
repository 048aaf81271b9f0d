/*
 * parse.h - the small syntaxes every layer reads (SPEC 2): durations, as
 * in the config file, JSON checks and tags, and "host:port" addresses.
 * Pure functions over caller memory; nothing here allocates or logs.
 */
#ifndef VT_PARSE_H
#define VT_PARSE_H

#include <stddef.h>

#include "collector/base/buf.h"

/* Bytes of a "host:port" text, with its NUL. */
#define VT_ADDR_LEN 256

/* "30s", "5m", "26h", "7d", "250ms", "1.5h", or a plain number of seconds
 * ("10", "0.5"). Units: ms, s, m, h, d, w. No sign, exponent, spaces or
 * trailing text. Returns 0 and sets *seconds (finite, >= 0), or -1. */
int vt_parse_duration(const char *text, double *seconds);

/* Append a duration as vt_parse_duration reads it, in the largest unit
 * that divides it: "10s", "5m", "1h", "7d", "250ms", "1.5s". */
void vt_parse_format_duration(double seconds, struct vt_buf *out);

/* "host:port", "[v6]:port" or ":port" -> 0, or -1 if malformed. The host
 * (without brackets, "" for any) is copied into host; port is 0..65535.
 * Nothing is resolved here. */
int vt_parse_addr(const char *text, char *host, size_t hostlen, int *port);

/* As vt_parse_addr, but the port may be left out ("carbon", "[::1]"):
 * then it is default_port. The host must not be empty. */
int vt_parse_addr_default(const char *text, int default_port, char *host,
    size_t hostlen, int *port);

#endif
