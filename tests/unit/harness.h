/*
 * harness.h: a small case-table harness for unit tests (after Postfix ptest).
 *
 * A test file defines
 *	const struct t_case t_cases[] = { T_CASE(name), ..., { NULL, NULL } };
 * and harness.c supplies main(). Each case runs in its own child process
 * (so a crash, a fake clock or a leaked global stays inside the case), with
 * a fresh temporary directory and a capture of every log line.
 *
 *	T_ASSERT(cond)			fail the case if cond is false
 *	T_EQ_INT(a, b), T_EQ_STR(a, b), T_EQ_MEM(a, b, n)
 *	t_expect_log(substr)		a log line containing substr was emitted
 *	t_no_log(substr)		no log line contains substr
 *	t_tmpdir()			this case's scratch directory
 *	t_path(name)			t_tmpdir()/name, in a static buffer
 *	t_fail(fmt, ...)		fail with a message
 *
 * Run a single case with: t_module NAME. A failed case's stderr (crash,
 * sanitizer report) is shown under it.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <inttypes.h>
#include <stddef.h>
#include <string.h>

struct t_case {
	const char	*name;
	void		(*fn)(void);
};

#define T_CASE(f)	{ #f, f }

extern const struct t_case t_cases[];

void	t_fail_at(const char *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4), noreturn));
const char *t_tmpdir(void);
const char *t_path(const char *);
void	t_expect_log_at(const char *, int, const char *);
void	t_no_log_at(const char *, int, const char *);
void	t_clear_log(void);

#define t_fail(...)	t_fail_at(__FILE__, __LINE__, __VA_ARGS__)
#define t_expect_log(s)	t_expect_log_at(__FILE__, __LINE__, (s))
#define t_no_log(s)	t_no_log_at(__FILE__, __LINE__, (s))

#define T_ASSERT(c) do {						\
	if (!(c))							\
		t_fail_at(__FILE__, __LINE__, "assertion failed: %s", #c); \
} while (0)

#define T_EQ_INT(a, b) do {						\
	intmax_t t_a_ = (intmax_t)(a), t_b_ = (intmax_t)(b);		\
	if (t_a_ != t_b_)						\
		t_fail_at(__FILE__, __LINE__, "%s == %jd, expected %s == %jd", \
		    #a, t_a_, #b, t_b_);				\
} while (0)

#define T_EQ_STR(a, b) do {						\
	const char *t_a_ = (a), *t_b_ = (b);				\
	if (t_a_ == NULL || t_b_ == NULL || strcmp(t_a_, t_b_) != 0)	\
		t_fail_at(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", \
		    #a, t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)");	\
} while (0)

#define T_EQ_MEM(a, b, n) do {						\
	if (memcmp((a), (b), (n)) != 0)					\
		t_fail_at(__FILE__, __LINE__, "%s differs from %s", #a, #b); \
} while (0)

#endif /* HARNESS_H */
