/*
 * sender.c: nft_add in a worker thread, batch after batch in the order
 * posted, while the main thread gathers the next ones (see sender.h).
 *
 * A fill of a million addresses spent 0.1 s of its 0.9 s between its
 * batches (taking addresses from the scan, converting them, building the
 * messages), and the kernel was idle meanwhile. With the sends in a
 * worker, that work overlaps the kernel's insertion; a queue of a few
 * batches lets the worker go on while the main thread waits for a core
 * or for spamd's answer. One mutex and one condition variable guard the
 * queue; the worker blocks every signal, so they reach the main thread
 * as before.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "spamd-nftsync/sender.h"

/* One job sent (or dropped: its key failed before); its result kept. */
static void
send_job(struct sender *sd, const struct sender_job *j, int failed)
{
	int rc = 0;

	if (!failed)
		rc = nft_add(sd->n, j->set, j->el, j->cnt, 0);
	free(j->el);
	if (rc == -1)
		strlcpy(sd->errstr[j->key], nft_errstr(sd->n),
		    sizeof(sd->errstr[j->key]));
	if (rc == -1)
		sd->failed[j->key] = 1;
	else if (rc > 0)
		sd->refused[j->key] = 1;
}

static void *
worker(void *arg)
{
	struct sender *sd = arg;
	struct sender_job j;
	int failed;

	pthread_mutex_lock(&sd->mu);
	for (;;) {
		while (sd->len == 0 && !sd->quit)
			pthread_cond_wait(&sd->cv, &sd->mu);
		if (sd->len == 0)
			break;		/* quit, nothing left */
		/* It stays queued (len) until sent: sender_wait returns,
		 * and its result is read, only once it is done. */
		j = sd->q[sd->head];
		failed = sd->failed[j.key];
		pthread_mutex_unlock(&sd->mu);
		send_job(sd, &j, failed);
		pthread_mutex_lock(&sd->mu);
		sd->head = (sd->head + 1) % SENDER_DEPTH;
		sd->len--;
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
sender_post(struct sender *sd, int key, const struct nft_set *set,
    struct nft_elem *el, size_t cnt)
{
	struct sender_job j = { key, set, el, cnt };

	if (key < 0 || key >= SENDER_KEYS) {	/* a caller's bug */
		log_warnx("sender: key %d out of range", key);
		free(el);
		return;
	}
	if (!sd->threaded) {
		send_job(sd, &j, sd->failed[key]);
		return;
	}
	pthread_mutex_lock(&sd->mu);
	while (sd->len == SENDER_DEPTH)
		pthread_cond_wait(&sd->cv, &sd->mu);
	sd->q[(sd->head + sd->len) % SENDER_DEPTH] = j;
	sd->len++;
	pthread_cond_broadcast(&sd->cv);
	pthread_mutex_unlock(&sd->mu);
}

void
sender_wait(struct sender *sd)
{
	if (!sd->threaded)
		return;
	pthread_mutex_lock(&sd->mu);
	while (sd->len > 0)
		pthread_cond_wait(&sd->cv, &sd->mu);
	pthread_mutex_unlock(&sd->mu);
}

void
sender_stop(struct sender *sd)
{
	sender_wait(sd);
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
