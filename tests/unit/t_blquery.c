/*
 * t_blquery.c: the blacklist question (common/blquery.c): recognising
 * the query line, the answer spamd builds, and the client against a fake
 * spamd in a child process (answers, refusals, malformed answers, nobody
 * listening).
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/blquery.h"
#include "common/compat.h"
#include "tests/unit/harness.h"

/*
 * 192.0.2.0/24 and 2001:db8:bad::/48 are "listed"; a network (spamd -g)
 * is listed when its first address is.
 */
static int
fake_listed(const struct cidr *c)
{
	const struct addr *a = &c->a;
	struct addr n4, n6;

	addr_parse("192.0.2.0", &n4);
	addr_parse("2001:db8:bad::", &n6);
	if (a->af == AF_INET)
		return memcmp(a->u.b, n4.u.b, 3) == 0;
	return memcmp(a->u.b, n6.u.b, 6) == 0;
}

static struct cidr
C(const char *s)
{
	struct cidr c;
	const char *err;

	if (cidr_parse(s, &c, 0, &err) == -1)
		t_fail("bad address %s", s);
	return c;
}

static void
is_query(void)
{
	T_EQ_INT(blquery_is("query listed\n", 13), BLQUERY_TEXT);
	T_EQ_INT(blquery_is("query listed\r\n1.2.3.4\n", 22), BLQUERY_TEXT);
	T_EQ_INT(blquery_is("query listed binary\n", 20), BLQUERY_BINARY);
	T_EQ_INT(blquery_is("query listed binary\r\n\4", 22),
	    BLQUERY_BINARY);
	T_EQ_INT(blquery_is("query listed binary", 19), 0);
	T_EQ_INT(blquery_is("query listed binaryx\n", 21), 0);
	T_EQ_INT(blquery_is("query listed", 12), 0);	/* no end of line */
	T_EQ_INT(blquery_is("query listedx\n", 14), 0);
	T_EQ_INT(blquery_is("query;\"m\";inet;1;192.0.2.0/24\n", 30), 0);
	T_EQ_INT(blquery_is("", 0), 0);
}

static void
answer(void)
{
	static const char q[] = "query listed\n"
	    "198.51.100.1\n"
	    "192.0.2.7\r\n"
	    "\n"
	    "not-an-address\n"
	    "2001:db8:bad::1\n"
	    "2001:db8::1";		/* no LF at the end */
	char *out;
	size_t len, nasked, nlisted;

	out = blquery_answer(q, sizeof(q) - 1, fake_listed, &len, &nasked,
	    &nlisted);
	T_ASSERT(out != NULL);
	T_EQ_INT(nasked, 5);
	T_EQ_INT(nlisted, 2);
	T_ASSERT(strcmp(out, "1 192.0.2.7\n3 2001:db8:bad::1\nend 5\n") == 0);
	T_EQ_INT(len, strlen(out));
	free(out);
	out = blquery_answer("query listed\n", 13, fake_listed, &len, &nasked,
	    &nlisted);
	T_ASSERT(out != NULL && strcmp(out, "end 0\n") == 0);
	free(out);
	/* Networks: listed ones echoed as asked; host bits or /0 are no
	 * network key, so never listed. */
	out = blquery_answer("query listed\n192.0.2.0/24\n198.51.100.0/24\n"
	    "192.0.2.1/24\n0.0.0.0/0\n2001:db8:bad::/64\n", 83, fake_listed,
	    &len, &nasked, &nlisted);
	T_ASSERT(out != NULL);
	T_EQ_STR(out, "0 192.0.2.0/24\n4 2001:db8:bad::/64\nend 5\n");
	free(out);
}

/* Append a binary record: family, prefix length, 16 address bytes. */
static size_t
rec(unsigned char *q, size_t at, int fam, int plen, const char *ip)
{
	struct addr a;

	memset(q + at, 0, BLQUERY_REC);
	q[at] = (unsigned char)fam;
	q[at + 1] = (unsigned char)plen;
	if (ip != NULL) {
		T_EQ_INT(addr_parse(ip, &a), 0);
		memcpy(q + at + 2, a.u.b, addr_len(&a));
	}
	return at + BLQUERY_REC;
}

/*
 * The binary question: addresses and networks as records, any byte in
 * them (an LF too); records that are no address (a family of 5, a
 * prefix too long or /0, host bits, bytes after an IPv4 address) are
 * counted, never listed; a record cut short is not counted.
 */
static void
answer_binary(void)
{
	unsigned char q[512];
	char *out;
	size_t at, len, nasked, nlisted;

	at = strlen(BLQUERY_BINLINE "\n");
	memcpy(q, BLQUERY_BINLINE "\n", at);
	at = rec(q, at, 4, 32, "198.51.100.1");
	at = rec(q, at, 4, 32, "192.0.2.10");		/* LF inside */
	at = rec(q, at, 6, 128, "2001:db8:bad::1");
	at = rec(q, at, 4, 24, "192.0.2.0");		/* a network */
	at = rec(q, at, 5, 32, "192.0.2.7");		/* no family */
	at = rec(q, at, 4, 33, "192.0.2.7");		/* too long */
	at = rec(q, at, 4, 0, "192.0.2.7");		/* /0 */
	at = rec(q, at, 4, 24, "192.0.2.7");		/* host bits */
	at = rec(q, at, 4, 32, "192.0.2.7");
	q[at - 1] = 1;				/* after the IPv4 bytes */
	at = rec(q, at, 6, 48, "2001:db8:bad::");
	at = rec(q, at, 4, 32, "192.0.2.7") - 1;	/* cut short */
	out = blquery_answer((const char *)q, at, fake_listed, &len, &nasked,
	    &nlisted);
	T_ASSERT(out != NULL);
	T_EQ_STR(out, "1 192.0.2.10\n2 2001:db8:bad::1\n3 192.0.2.0/24\n"
	    "9 2001:db8:bad::/48\nend 10\n");
	T_EQ_INT(nasked, 10);
	T_EQ_INT(nlisted, 4);
	T_EQ_INT(len, strlen(out));
	free(out);
}

/* serve()'s reply that stands for "answer as spamd does". */
static const char ANSWER[] = "(blquery_answer)";

/*
 * A fake spamd for one connection: read to EOF, then write `reply' (none
 * if NULL), or, for ANSWER, what blquery_answer says to a binary
 * question (the child fails on anything else).
 */
static pid_t
serve(const char *path, const char *reply)
{
	struct sockaddr_un sun;
	static char buf[65536];
	size_t got = 0, alen, na, nl;
	char *ans;
	ssize_t r;
	pid_t pid;
	int l, c;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	T_ASSERT((l = socket(AF_UNIX, SOCK_STREAM, 0)) != -1);
	T_EQ_INT(bind(l, (struct sockaddr *)&sun, sizeof(sun)), 0);
	T_EQ_INT(listen(l, 1), 0);
	T_ASSERT((pid = fork()) != -1);
	if (pid == 0) {
		if ((c = accept(l, NULL, NULL)) == -1)
			_exit(1);
		while ((r = read(c, buf + got, sizeof(buf) - got)) > 0)
			if ((got += (size_t)r) == sizeof(buf))
				got = 0;	/* only an ANSWER reads it */
		if (reply == ANSWER) {
			if (blquery_is(buf, got) != BLQUERY_BINARY ||
			    (ans = blquery_answer(buf, got, fake_listed,
			    &alen, &na, &nl)) == NULL)
				_exit(1);
			(void)!write(c, ans, alen);
		} else if (reply != NULL)
			(void)!write(c, reply, strlen(reply));
		_exit(0);
	}
	close(l);
	return pid;
}

static void
ask(void)
{
	struct cidr a[3];
	unsigned char flag[3];
	char err[256], path[300];
	int st;
	pid_t pid;

	a[0] = C("198.51.100.1");
	a[1] = C("192.0.2.7");
	a[2] = C("2001:db8:bad::1");
	snprintf(path, sizeof(path), "%s", t_path("s1"));
	pid = serve(path, "1 192.0.2.7\n2 2001:db8:bad::1\nend 3\n");
	T_EQ_INT(blquery_ask(path, a, 3, flag, err, sizeof(err)), 0);
	T_ASSERT(flag[0] == 0 && flag[1] == 1 && flag[2] == 1);
	waitpid(pid, &st, 0);

	/* A network (spamd -g) is asked and answered as "a/m". */
	a[1] = C("192.0.2.0/24");
	snprintf(path, sizeof(path), "%s", t_path("s5"));
	pid = serve(path, "1 192.0.2.0/24\nend 3\n");
	T_EQ_INT(blquery_ask(path, a, 3, flag, err, sizeof(err)), 0);
	T_ASSERT(flag[0] == 0 && flag[1] == 1 && flag[2] == 0);
	waitpid(pid, &st, 0);
	/* ... and an answer naming the bare address does not match it. */
	snprintf(path, sizeof(path), "%s", t_path("s6"));
	pid = serve(path, "1 192.0.2.0\nend 3\n");
	T_EQ_INT(blquery_ask(path, a, 3, flag, err, sizeof(err)), -1);
	waitpid(pid, &st, 0);
	a[1] = C("192.0.2.7");

	/* Both halves: the client's records, spamd's answer to them. */
	{
		struct cidr b[4];
		unsigned char f[4];

		b[0] = C("198.51.100.1");
		b[1] = C("192.0.2.7");
		b[2] = C("2001:db8:bad::1");
		b[3] = C("2001:db8:bad::/48");
		snprintf(path, sizeof(path), "%s", t_path("s7"));
		pid = serve(path, ANSWER);
		T_EQ_INT(blquery_ask(path, b, 4, f, err, sizeof(err)), 0);
		T_ASSERT(f[0] == 0 && f[1] == 1 && f[2] == 1 && f[3] == 1);
		T_EQ_INT(waitpid(pid, &st, 0), pid);
		T_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}

	/* Started, answered later; a finish after it, or after a cancel,
	 * has no question to read the answer of. */
	{
		struct blquery q;

		snprintf(path, sizeof(path), "%s", t_path("s8"));
		pid = serve(path, ANSWER);
		T_EQ_INT(blquery_start(&q, path, a, 3, err, sizeof(err)), 0);
		T_EQ_INT(blquery_finish(&q, flag, err, sizeof(err)), 0);
		T_ASSERT(flag[0] == 0 && flag[1] == 1 && flag[2] == 1);
		T_EQ_INT(waitpid(pid, &st, 0), pid);
		T_EQ_INT(blquery_finish(&q, flag, err, sizeof(err)), -1);
		T_ASSERT(flag[1] == 0);

		snprintf(path, sizeof(path), "%s", t_path("s9"));
		pid = serve(path, "end 3\n");
		T_EQ_INT(blquery_start(&q, path, a, 3, err, sizeof(err)), 0);
		blquery_cancel(&q);
		blquery_cancel(&q);		/* twice: harmless */
		T_EQ_INT(blquery_finish(&q, flag, err, sizeof(err)), -1);
		T_EQ_INT(waitpid(pid, &st, 0), pid);
		T_EQ_INT(blquery_start(&q, t_path("none"), a, 3, err,
		    sizeof(err)), BLQUERY_NOSPAMD);
	}

	/* refused: closed without an answer */
	snprintf(path, sizeof(path), "%s", t_path("s2"));
	pid = serve(path, NULL);
	T_EQ_INT(blquery_ask(path, a, 3, flag, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "without an answer") != NULL);
	T_ASSERT(flag[1] == 0);
	waitpid(pid, &st, 0);

	/* an index that does not match its address */
	snprintf(path, sizeof(path), "%s", t_path("s3"));
	pid = serve(path, "0 192.0.2.7\nend 3\n");
	T_EQ_INT(blquery_ask(path, a, 3, flag, err, sizeof(err)), -1);
	T_ASSERT(strstr(err, "malformed") != NULL);
	waitpid(pid, &st, 0);

	/* spamd read fewer addresses than were sent */
	snprintf(path, sizeof(path), "%s", t_path("s4"));
	pid = serve(path, "end 2\n");
	T_EQ_INT(blquery_ask(path, a, 3, flag, err, sizeof(err)), -1);
	waitpid(pid, &st, 0);

	/* nobody listening: spamd is not running, nothing is listed */
	T_EQ_INT(blquery_ask(t_path("none"), a, 3, flag, err, sizeof(err)),
	    BLQUERY_NOSPAMD);
	T_ASSERT(flag[0] == 0 && flag[1] == 0 && flag[2] == 0);
}

const struct t_case t_cases[] = {
	T_CASE(is_query),
	T_CASE(answer),
	T_CASE(answer_binary),
	T_CASE(ask),
	{ NULL, NULL },
};
