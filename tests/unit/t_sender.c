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

/* Posts reach the kernel in order, each result comes back with its set. */
static void
in_order(void)
{
	struct nft *n = rec_open();
	const struct nft_set *set;
	struct sender sd;
	const char *r, *a, *b;

	sender_start(&sd, n);
	T_ASSERT(sd.threaded);
	T_EQ_INT(sender_wait(&sd, &set), SENDER_NONE);
	sender_post(&sd, &white, elems(1, 3, 60000), 3);
	T_EQ_INT(sender_wait(&sd, &set), 0);
	T_ASSERT(set == &white);
	sender_post(&sd, &white, elems(10, 2, 60000), 2);
	T_EQ_INT(sender_wait(&sd, &set), 0);
	T_EQ_INT(sender_wait(&sd, &set), SENDER_NONE);
	sender_stop(&sd);
	r = recorded();
	a = strstr(r, "192.0.2.3 timeout 60000");
	b = strstr(r, "192.0.2.10 timeout 60000");
	T_ASSERT(a != NULL && b != NULL && a < b);
	nft_close(n);
}

/* An element the kernel refuses is counted; a failed call says why. */
static void
refused_and_failed(void)
{
	struct nft *n = rec_open();
	const struct nft_set *set;
	struct sender sd;
	struct nft_elem *e;

	sender_start(&sd, n);
	e = elems(1, 3, 60000);
	e[1].timeout_ms = UINT64_MAX / 1000;	/* ERANGE in the kernel */
	sender_post(&sd, &white, e, 3);
	T_EQ_INT(sender_wait(&sd, &set), 1);
	sender_post(&sd, &nameless, elems(5, 1, 60000), 1);
	T_EQ_INT(sender_wait(&sd, &set), -1);
	T_ASSERT(set == &nameless);
	T_ASSERT(strstr(sd.errstr, "no table or set name") != NULL);
	sender_stop(&sd);
	T_ASSERT(strstr(recorded(), "192.0.2.3 timeout 60000") != NULL);
	nft_close(n);
}

/* A post not waited for is still sent, and said; stop waits for it. */
static void
unwaited_post(void)
{
	struct nft *n = rec_open();
	const struct nft_set *set;
	struct sender sd;

	sender_start(&sd, n);
	sender_post(&sd, &white, elems(1, 1, 60000), 1);
	sender_post(&sd, &white, elems(2, 1, 60000), 1);
	t_expect_log("a batch was not waited for");
	sender_stop(&sd);
	T_EQ_INT(sender_wait(&sd, &set), SENDER_NONE);
	T_ASSERT(strstr(recorded(), "192.0.2.2 timeout 60000") != NULL);
	nft_close(n);
}

/* Many batches back to back: every element arrives, none twice. */
static void
many_batches(void)
{
	struct nft *n = rec_open();
	const struct nft_set *set;
	struct sender sd;
	const char *r, *p;
	int i, cnt = 0;

	sender_start(&sd, n);
	for (i = 0; i < 200; i++) {
		if (i > 0)
			T_EQ_INT(sender_wait(&sd, &set), 0);
		sender_post(&sd, &white, elems(1 + i % 250, 1,
		    60000 + (uint64_t)i), 1);
	}
	sender_stop(&sd);
	r = recorded();
	for (p = r; (p = strstr(p, "\nadd ")) != NULL; p++)
		cnt++;
	if (strncmp(r, "add ", 4) == 0)
		cnt++;
	T_EQ_INT(cnt, 200);
	nft_close(n);
}

const struct t_case t_cases[] = {
	T_CASE(in_order),
	T_CASE(refused_and_failed),
	T_CASE(unwaited_post),
	T_CASE(many_batches),
	{ NULL, NULL },
};
