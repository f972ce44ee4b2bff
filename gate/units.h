/* units: parse and print sizes (bytes) and durations (milliseconds).
 * Sizes: B, kB/MB/GB/TB (10^3), KiB/MiB/GiB/TiB (2^10); a unit is required.
 * Durations: ms, s, min, h; a unit is required. Decimals are allowed
 * ("1.5GiB", "0.5s") and rounded to the nearest byte / millisecond. */
#ifndef MG_UNITS_H
#define MG_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* Return 0 and store the value, or -1 and write a one-line reason to err
 * (e.g. "size \"200\" needs a unit: B, kB, MB, GB, KiB, MiB or GiB"). */
int mg_parse_size(const char *s, int64_t *bytes, char *err, size_t errlen);
int mg_parse_duration(const char *s, int64_t *ms, char *err, size_t errlen);
/* A rate, a size per /s or /min ("1MiB/s", "30MiB/min"), stored per second:
 * the growth limit, in the config and on the command line alike. */
int mg_parse_rate(const char *s, int64_t *per_s, char *err, size_t errlen);

/* "64.0 MiB" (always MiB, one decimal), the unit of every human summary. */
void mg_format_mib(int64_t bytes, char *buf, size_t len);
/* "1.50 s" / "250 ms" */
void mg_format_duration(int64_t ms, char *buf, size_t len);

/* now_ms + ms, at most INT64_MAX: a deadline from any duration a config or
 * the command line can give (up to INT64_MAX ms, "never" in practice). */
int64_t mg_deadline_ms(int64_t now_ms, int64_t ms);

#endif
