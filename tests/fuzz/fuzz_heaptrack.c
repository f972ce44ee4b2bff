/* The heaptrack_print text parser (gate/heap/heaptrack.c) on arbitrary
 * bytes: never a crash, and what heaptrack.h promises holds: 0 or -1; on
 * -1 one terminated line of message and a reset result; on 0 counts within
 * capacity, non-negative calls and slack, 1..MAX frames per site, every
 * string terminated, valid UTF-8 and free of control characters; the same
 * text parses to the same bytes again; mg_heaptrack_own_frame points into
 * the site or is NULL. */
#include "fuzz.h"

#include "heap/heaptrack.h"

/* NUL-terminated within cap, valid UTF-8 (no overlongs, surrogates or
 * code points above U+10FFFF), no C0 control characters or DEL */
static void check_text(const char *s, size_t cap)
{
	const unsigned char *p = (const unsigned char *)s;
	FUZZ_CHECK(memchr(s, '\0', cap) != NULL);
	while (*p) {
		unsigned c = *p;
		size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
		FUZZ_CHECK(n != 0);
		FUZZ_CHECK(n != 1 || (c >= 0x20 && c != 0x7f));
		unsigned cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
		for (size_t i = 1; i < n; i++) {
			FUZZ_CHECK((p[i] & 0xC0) == 0x80);
			cp = (cp << 6) | (p[i] & 0x3F);
		}
		FUZZ_CHECK(n != 2 || cp >= 0x80);
		FUZZ_CHECK(n != 3 || (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)));
		FUZZ_CHECK(n != 4 || (cp >= 0x10000 && cp <= 0x10FFFF));
		p += n;
	}
}

static void check_sites(const struct mg_heaptrack_site *sites, int n, int omitted)
{
	FUZZ_CHECK(n >= 0 && n <= MG_HEAPTRACK_MAX_SITES && omitted >= 0);
	FUZZ_CHECK(omitted == 0 || n == MG_HEAPTRACK_MAX_SITES);
	for (int i = 0; i < n; i++) {
		const struct mg_heaptrack_site *s = &sites[i];
		FUZZ_CHECK(s->calls >= 0 && s->size.slack >= 0);
		FUZZ_CHECK(s->nframes >= 1 && s->nframes <= MG_HEAPTRACK_MAX_FRAMES);
		check_text(s->module, sizeof s->module);
		for (int k = 0; k < s->nframes; k++) {
			check_text(s->frames[k].function, sizeof s->frames[k].function);
			check_text(s->frames[k].location, sizeof s->frames[k].location);
		}
		const struct mg_heaptrack_frame *own = mg_heaptrack_own_frame(s);
		FUZZ_CHECK(!own || (own >= s->frames && own < s->frames + s->nframes && own->location[0]));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_cstr(data, size);
	static struct mg_heaptrack h, again;
	char err[512];

	memset(err, 'X', sizeof err);
	int rc = mg_heaptrack_parse(text, &h, err, sizeof err);
	FUZZ_CHECK(rc == 0 || rc == -1);
	if (rc == 0) {
		FUZZ_CHECK(err[0] == '\0');
		check_text(h.command, sizeof h.command);
		FUZZ_CHECK(h.allocations >= 0);
		FUZZ_CHECK(h.temporary >= 0 || h.temporary == MG_HEAPTRACK_UNKNOWN);
		FUZZ_CHECK(h.runtime_ms >= 0 || h.runtime_ms == MG_HEAPTRACK_UNKNOWN);
		FUZZ_CHECK(h.peak_heap.slack >= 0 && h.leaked.slack >= 0 && h.peak_rss.slack >= 0 &&
			   h.suppressed.slack >= 0);
		FUZZ_CHECK(h.has_peaks || h.npeaks == 0);
		FUZZ_CHECK(h.has_leaks || h.nleaks == 0);
		check_sites(h.peaks, h.npeaks, h.peaks_omitted);
		check_sites(h.leaks, h.nleaks, h.leaks_omitted);
		FUZZ_CHECK(mg_heaptrack_parse(text, &again, err, sizeof err) == 0);
		FUZZ_CHECK(memcmp(&h, &again, sizeof h) == 0);
	} else {
		fuzz_check_err(err, sizeof err);
		FUZZ_CHECK(strchr(err, '\n') == NULL);
		FUZZ_CHECK(err[0] != '\0');
		FUZZ_CHECK(h.command[0] == '\0' && h.npeaks == 0 && h.nleaks == 0 && !h.has_peaks && !h.has_leaks);
	}
	free(text);
	return 0;
}
