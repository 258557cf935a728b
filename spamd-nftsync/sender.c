/*
 * sender.c: nft_add in a worker thread, one batch at a time, while the
 * main thread gathers the next one (see sender.h).
 *
 * A fill of a million addresses spent 0.1 s of its 0.9 s between its
 * batches (taking addresses from the scan, converting them, building the
 * messages), and the kernel was idle meanwhile. With the send in a
 * worker, that work overlaps the kernel's insertion of the batch before.
 * One mutex and one condition variable guard the single slot; the
 * worker blocks every signal, so they reach the main thread as before.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "spamd-nftsync/sender.h"

/* The slot's job, sent; its result kept. Called without the lock. */
static void
send_job(struct sender *sd)
{
	int rc;

	rc = nft_add(sd->n, sd->set, sd->el, sd->cnt, 0);
	if (rc == -1)
		strlcpy(sd->errstr, nft_errstr(sd->n), sizeof(sd->errstr));
	free(sd->el);
	sd->el = NULL;
	sd->rc = rc;
}

static void *
worker(void *arg)
{
	struct sender *sd = arg;

	pthread_mutex_lock(&sd->mu);
	for (;;) {
		while (!sd->busy && !sd->quit)
			pthread_cond_wait(&sd->cv, &sd->mu);
		if (!sd->busy)
			break;		/* quit, nothing left */
		pthread_mutex_unlock(&sd->mu);
		send_job(sd);
		pthread_mutex_lock(&sd->mu);
		sd->busy = 0;
		pthread_cond_broadcast(&sd->cv);
	}
	pthread_mutex_unlock(&sd->mu);
	return NULL;
}

void
sender_start(struct sender *sd, struct nft *n)
{
	sigset_t all, old;
	int e;

	memset(sd, 0, sizeof(*sd));
	sd->n = n;
	if ((e = pthread_mutex_init(&sd->mu, NULL)) != 0 ||
	    (e = pthread_cond_init(&sd->cv, NULL)) != 0) {
		log_warnx("sender: %s; sending without a worker thread",
		    strerror(e));
		return;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&sd->t, NULL, worker, sd);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		log_warnx("pthread_create: %s; sending without a worker "
		    "thread", strerror(e));
		pthread_cond_destroy(&sd->cv);
		pthread_mutex_destroy(&sd->mu);
		return;
	}
	sd->threaded = 1;
}

void
sender_post(struct sender *sd, const struct nft_set *set,
    struct nft_elem *el, size_t cnt)
{
	const struct nft_set *prev;

	if (sd->posted) {	/* not waited for: its result is lost */
		log_warnx("sender: a batch was not waited for");
		(void)sender_wait(sd, &prev);
	}
	sd->posted = 1;
	if (!sd->threaded) {
		sd->set = set;
		sd->el = el;
		sd->cnt = cnt;
		send_job(sd);
		return;
	}
	pthread_mutex_lock(&sd->mu);
	sd->set = set;
	sd->el = el;
	sd->cnt = cnt;
	sd->busy = 1;
	pthread_cond_broadcast(&sd->cv);
	pthread_mutex_unlock(&sd->mu);
}

int
sender_wait(struct sender *sd, const struct nft_set **set)
{
	*set = NULL;
	if (!sd->posted)
		return SENDER_NONE;
	if (sd->threaded) {
		pthread_mutex_lock(&sd->mu);
		while (sd->busy)
			pthread_cond_wait(&sd->cv, &sd->mu);
		pthread_mutex_unlock(&sd->mu);
	}
	sd->posted = 0;
	*set = sd->set;
	return sd->rc;
}

void
sender_stop(struct sender *sd)
{
	const struct nft_set *set;

	(void)sender_wait(sd, &set);
	if (!sd->threaded)
		return;
	pthread_mutex_lock(&sd->mu);
	sd->quit = 1;
	pthread_cond_broadcast(&sd->cv);
	pthread_mutex_unlock(&sd->mu);
	pthread_join(sd->t, NULL);
	pthread_cond_destroy(&sd->cv);
	pthread_mutex_destroy(&sd->mu);
	sd->threaded = 0;
}
