/*
 * t_sender.c: unit tests for spamd-nftsync/sender.c (nft_add in a worker
 * thread, one batch at a time) against the record backend.
 */
#include <sys/types.h>

#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>

#include "common/addr.h"
#include "nft/nft.h"
#include "spamd-nftsync/sender.h"
#include "tests/nftlib/nftlib.h"
#include "tests/unit/harness.h"

static const struct nft_set white = { "spamd", "spamd_white", NFPROTO_INET,
    AF_INET, 0 };
static const struct nft_set nameless = { "spamd", "", NFPROTO_INET,
    AF_INET, 0 };

static struct nft *
rec_open(void)
{
	static char spec[600];
	struct nft *n;

	nft_record_register();
	snprintf(spec, sizeof(spec), "record:%s", t_path("rec"));
	if ((n = nft_open(spec)) == NULL)
		t_fail("nft_open(%s): %s", spec, nft_open_errstr());
	return n;
}

/* cnt elements 192.0.2.first.., each with timeout tmo, in a new array. */
static struct nft_elem *
elems(int first, size_t cnt, uint64_t tmo)
{
	struct nft_elem *e;
	char a[32];
	size_t i;

	if ((e = calloc(cnt, sizeof(*e))) == NULL)
		t_fail("calloc");
	for (i = 0; i < cnt; i++) {
		snprintf(a, sizeof(a), "192.0.2.%d", first + (int)i);
		if (addr_parse(a, &e[i].a) == -1)
			t_fail("addr %s", a);
		e[i].timeout_ms = tmo;
	}
	return e;
}

static const char *
recorded(void)
{
	return nft_record_text(t_path("rec"));
}

/* Posts reach the kernel in order; each key's result is kept. */
static void
in_order(void)
{
	struct nft *n = rec_open();
	struct sender sd;
	const char *r, *a, *b;

	sender_start(&sd, n);
	T_ASSERT(sd.threaded);
	sender_wait(&sd);		/* nothing posted: returns */
	sender_post(&sd, 0, &white, elems(1, 3, 60000), 3);
	sender_post(&sd, 0, &white, elems(10, 2, 60000), 2);
	sender_wait(&sd);
	T_EQ_INT(sd.failed[0], 0);
	T_EQ_INT(sd.refused[0], 0);
	sender_stop(&sd);
	r = recorded();
	a = strstr(r, "192.0.2.3 timeout 60000");
	b = strstr(r, "192.0.2.10 timeout 60000");
	T_ASSERT(a != NULL && b != NULL && a < b);
	nft_close(n);
}

/*
 * An element the kernel refuses is counted; a failed post says why, and
 * its key's later posts are dropped; other keys go on.
 */
static void
refused_and_failed(void)
{
	struct nft *n = rec_open();
	struct sender sd;
	struct nft_elem *e;
	const char *r;

	sender_start(&sd, n);
	e = elems(1, 3, 60000);
	e[1].timeout_ms = UINT64_MAX / 1000;	/* ERANGE in the kernel */
	sender_post(&sd, 0, &white, e, 3);
	sender_post(&sd, 1, &nameless, elems(5, 1, 60000), 1);
	sender_post(&sd, 1, &white, elems(6, 1, 60000), 1);
	sender_post(&sd, 0, &white, elems(7, 1, 60000), 1);
	sender_wait(&sd);
	T_EQ_INT(sd.refused[0], 1);
	T_EQ_INT(sd.failed[0], 0);
	T_EQ_INT(sd.failed[1], 1);
	T_ASSERT(strstr(sd.errstr[1], "no table or set name") != NULL);
	sender_stop(&sd);
	r = recorded();
	T_ASSERT(strstr(r, "192.0.2.3 timeout 60000") != NULL);
	T_ASSERT(strstr(r, "192.0.2.6 ") == NULL);	/* dropped */
	T_ASSERT(strstr(r, "192.0.2.7 timeout 60000") != NULL);
	nft_close(n);
}

/* A key out of range is a caller's bug: said, nothing sent. */
static void
bad_key(void)
{
	struct nft *n = rec_open();
	struct sender sd;

	sender_start(&sd, n);
	sender_post(&sd, SENDER_KEYS, &white, elems(1, 1, 60000), 1);
	t_expect_log("key 8 out of range");
	sender_stop(&sd);
	T_ASSERT(strstr(recorded(), "192.0.2.1 ") == NULL);
	nft_close(n);
}

/* More posts than the queue holds: every element arrives, in order. */
static void
many_batches(void)
{
	struct nft *n = rec_open();
	struct sender sd;
	const char *r, *p;
	char want[64];
	int i, cnt = 0;

	sender_start(&sd, n);
	for (i = 0; i < 200; i++)
		sender_post(&sd, 0, &white, elems(1 + i % 250, 1,
		    60000 + (uint64_t)i), 1);
	sender_stop(&sd);
	T_EQ_INT(sd.failed[0], 0);
	r = recorded();
	for (p = r; (p = strstr(p, "\nadd ")) != NULL; p++)
		cnt++;
	if (strncmp(r, "add ", 4) == 0)
		cnt++;
	T_EQ_INT(cnt, 200);
	snprintf(want, sizeof(want), "192.0.2.200 timeout %d", 60000 + 199);
	T_ASSERT(strstr(r, want) != NULL);
	nft_close(n);
}

const struct t_case t_cases[] = {
	T_CASE(in_order),
	T_CASE(refused_and_failed),
	T_CASE(bad_key),
	T_CASE(many_batches),
	{ NULL, NULL },
};
