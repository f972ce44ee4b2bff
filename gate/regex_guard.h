/* regex_guard: bound a POSIX extended regular expression before regcomp.
 *
 * glibc's regcomp unrolls repetitions into copies of the parse tree: "x+"
 * becomes "xx*", "x{3}" three copies of x, and each stacked quantifier
 * doubles or multiplies what is already there. A short pattern can so
 * take seconds and gigabytes to compile ("r++++++++++++++++++++" is
 * 718 MiB; a few more '+' crash it), and a back-reference makes matching
 * exponential. A readiness pattern needs none of that, so a pattern is
 * refused when it has
 *   - more than MG_REGEX_MAX_LEN bytes;
 *   - a quantifier (*, +, ?, {m,n}) right after another one ("a++",
 *     "a*?", "a{2}{3}"), or with nothing to repeat ("*a", "(+", "|?", "^*");
 *   - a back-reference (\1 to \9);
 *   - a bound of {m,n} above MG_REGEX_MAX_REPEAT, a malformed interval,
 *     or m > n;
 *   - groups nested deeper than MG_REGEX_MAX_DEPTH, or unbalanced;
 *   - an unterminated bracket expression, or a trailing backslash;
 *   - an estimated size after unrolling above MG_REGEX_MAX_EXPANSION:
 *     every atom (a character, ".", a bracket expression, an escape) counts
 *     1, a group the sum of its alternatives, and a quantified atom or
 *     group its size times its repetition bound (+ and {m,} count m+1, as
 *     glibc copies them): "(a{100}){100}" is 10000.
 * Measured with glibc 2.36: what passes compiles in under 10 ms and 10 MiB,
 * and matching one 1 KiB line (the longest service line kept) stays under
 * half a second in the worst shapes found: "(x|.?){500}b", 1000 nodes,
 * 0.25 s. Optional copies make matching quadratic in them (4000 nodes took
 * 12 s per line), hence 1000 and not more. regcomp still has the last word
 * on the syntax (character class names and the like).
 *
 * Total: any NUL-terminated bytes, never a crash, linear in the length. */
#ifndef MG_REGEX_GUARD_H
#define MG_REGEX_GUARD_H

#include <stddef.h>

#define MG_REGEX_MAX_LEN 512
#define MG_REGEX_MAX_REPEAT 255
#define MG_REGEX_MAX_DEPTH 10
#define MG_REGEX_MAX_EXPANSION 1000

/* 0 when pattern is within the bounds above; -1 with one line in err
 * saying what is wrong, at which byte (counted from 0), and how to fix it.
 * err may be NULL (len 0). */
int mg_regex_check(const char *pattern, char *err, size_t len);

#endif
