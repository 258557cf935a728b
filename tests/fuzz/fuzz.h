/*
 * fuzz.h: what the libFuzzer harnesses under tests/fuzz/ share.
 *
 * Every fuzz_<name>.c defines LLVMFuzzerInitialize (which calls
 * fuzz_init) and LLVMFuzzerTestOneInput. The same object links two ways
 * (tests/fuzz/module.mk): with clang and -fsanitize=fuzzer for `make
 * fuzz', and with $(CC) and replay.c's main() so that `make check' (and
 * SANITIZE=1) replays the corpus in tests/fuzz/corpus/<name>/.
 *
 *	fuzz_init(name)		log to stderr through a hook that counts
 *		lines and checks them (one line, no control bytes); the
 *		stdio stream stderr then points at /dev/null so that the
 *		parsers' warnings do not drown the fuzzer's output
 *	FUZZ_CHECK(cond, fmt, ...)	a broken invariant: print it (to the
 *		real stderr) and abort(), which both libFuzzer and the replay
 *		report as a crash with the input that caused it
 *	fuzz_nlog, fuzz_nwarn	log lines (all, WARNING and above) since the
 *		last fuzz_log_reset()
 *	fuzz_last_log		the last line logged, for messages
 *	fuzz_input_name		the replay sets it to the file being run, so
 *		that fuzz_fail can name it (NULL under libFuzzer, which
 *		saves the input itself)
 *
 * Harnesses are pure: no sockets, no database, no clock; a harness that
 * needs a file (fuzz_conf's message files) keeps it in a private
 * temporary directory removed at exit.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***);

void	fuzz_init(const char *);
void	fuzz_log_reset(void);
void	fuzz_fail(const char *, int, const char *, const char *, ...)
	    __attribute__((format(printf, 4, 5), noreturn));

extern unsigned long	fuzz_nlog, fuzz_nwarn;
extern char		fuzz_last_log[];
extern const char	*fuzz_input_name;

#define FUZZ_CHECK(c, ...) do {						\
	if (!(c))							\
		fuzz_fail(__FILE__, __LINE__, #c, __VA_ARGS__);		\
} while (0)

#endif /* FUZZ_H */
