/*
 * t_ev.c: the event loop's timer heap (spamd/ev.c): order, moves,
 * cancellation, and a randomized comparison with a brute-force model;
 * descriptors that epoll hears of only when they want events,
 * ev_io_close, and ev_io_close_late (the peer sees the end only after the
 * turn's log lines are written).
 */
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "spamd/ev.h"
#include "tests/unit/harness.h"

#define N	2000

static struct ev_timer	 tm[N];
static int		 fired[N], order[N], nfired;

static void
cb(struct ev_timer *t)
{
	int i = (int)(t - tm);

	fired[i]++;
	order[nfired++] = i;
}

static void
random_heap(void)
{
	int i, prev = -1;
	uint64_t base;

	clock_fake_set(1000);
	ev_init();
	base = ev_now();
	srandom(42);
	for (i = 0; i < N; i++)
		ev_timer_set(&tm[i], base + 1 + (uint64_t)(random() % 5000), cb);
	/* Move half, cancel a quarter. */
	for (i = 0; i < N; i += 2)
		ev_timer_set(&tm[i], base + 1 + (uint64_t)(random() % 5000), cb);
	for (i = 1; i < N; i += 4)
		ev_timer_del(&tm[i]);
	T_EQ_INT(ev_timers(), N - N / 4);
	/* Let the loop pop them all: the clock is past every deadline,
	 * and a last timer stops the loop once the others have fired. */
	{
		struct ev_timer stop;

		memset(&stop, 0, sizeof(stop));
		ev_timer_set(&stop, base + 9000, (ev_timer_cb)ev_break);
		clock_fake_advance(10);
		ev_run();
		T_ASSERT(!ev_timer_armed(&stop));
	}
	T_EQ_INT(ev_timers(), 0);
	T_EQ_INT(nfired, N - N / 4);
	for (i = 0; i < N; i++) {
		if (i % 4 == 1)
			T_EQ_INT(fired[i], 0);
		else
			T_EQ_INT(fired[i], 1);
	}
	/* The heap handed them out in deadline order. */
	for (i = 0; i < nfired; i++) {
		T_ASSERT(prev == -1 || tm[order[i]].when >= tm[prev].when);
		prev = order[i];
	}
	clock_fake_off();
}

static void
loop_fires_in_order(void)
{
	int i;

	ev_init();
	nfired = 0;
	memset(fired, 0, sizeof(fired));
	for (i = 0; i < 50; i++)
		ev_timer_set(&tm[i], ev_now() + (uint64_t)(50 - i), cb);
	ev_timer_del(&tm[10]);
	ev_timer_set(&tm[20], ev_now() + 1000, cb);	/* moved later */
	while (ev_timers() > 1) {
		/* Run the loop for short slices until 48 have fired. */
		struct ev_timer stop;

		memset(&stop, 0, sizeof(stop));
		ev_timer_set(&stop, ev_now() + 60, (ev_timer_cb)ev_break);
		ev_run();
	}
	T_EQ_INT(nfired, 48);
	for (i = 1; i < nfired; i++)
		T_ASSERT(order[i - 1] > order[i]);	/* 49 first, then 48... */
	T_EQ_INT(fired[10], 0);
	T_EQ_INT(fired[20], 0);
	T_ASSERT(ev_timer_armed(&tm[20]));
}

/*
 * FIFO lists and the heap together: the loop fires timers in deadline
 * order across both; a re-armed FIFO timer goes to the back; a timer
 * removed from the middle never fires; a FIFO timer moved with
 * ev_timer_set leaves its list.
 */
static void
fifo_lists(void)
{
	struct ev_fifo a, b;
	struct ev_timer stop;
	int i;

	clock_fake_set(5000);
	ev_init();
	nfired = 0;
	memset(fired, 0, sizeof(fired));
	memset(tm, 0, sizeof(tm));
	ev_fifo_init(&a, 100);
	ev_fifo_init(&b, 250);
	for (i = 0; i < 10; i++)		/* a: 0..9, all due at +100 */
		ev_timer_fifo(&tm[i], &a, cb);
	for (i = 10; i < 15; i++)		/* b: due at +250 */
		ev_timer_fifo(&tm[i], &b, cb);
	ev_timer_set(&tm[20], ev_now() + 200, cb);	/* heap, between */
	ev_timer_set(&tm[21], ev_now() + 50, cb);	/* heap, first */
	T_EQ_INT(ev_timers(), 17);
	ev_timer_del(&tm[5]);			/* from the middle of a */
	ev_timer_fifo(&tm[0], &b, cb);		/* a -> back of b */
	ev_timer_set(&tm[12], ev_now() + 10, cb); /* b -> heap, first of all */
	T_ASSERT(!ev_timer_armed(&tm[5]));
	T_EQ_INT(a.n, 8);
	T_EQ_INT(b.n, 5);
	T_EQ_INT(ev_timers(), 16);
	memset(&stop, 0, sizeof(stop));
	ev_timer_set(&stop, ev_now() + 1000, (ev_timer_cb)ev_break);
	clock_fake_advance(2);	/* 2 s: everything is due */
	ev_run();
	{
		static const int want[] = { 12, 21, 1, 2, 3, 4, 6, 7, 8, 9,
		    20, 10, 11, 13, 14, 0 };

		T_EQ_INT(nfired, (int)(sizeof(want) / sizeof(want[0])));
		for (i = 0; i < nfired; i++)
			if (order[i] != want[i])
				t_fail("fired #%d is %d, expected %d", i,
				    order[i], want[i]);
	}
	T_EQ_INT(fired[5], 0);
	T_EQ_INT(a.n, 0);
	T_EQ_INT(b.n, 0);
	T_EQ_INT(ev_timers(), 0);
	clock_fake_off();
}

static int io_calls;

static void
io_cb(struct ev_io *io, uint32_t events)
{
	char b;

	T_ASSERT(events & EPOLLIN);
	T_EQ_INT(read(io->fd, &b, 1), 1);
	io_calls++;
	ev_break();
}

/*
 * A descriptor added with no events costs no epoll_ctl until it wants
 * some; one that never did is deleted and closed without complaint; a
 * watched one is closed, and so dropped from epoll, by ev_io_close.
 */
static void
lazy_io(void)
{
	struct ev_io io, idle;
	struct ev_timer stop;
	int p[2], q[2];

	ev_init();
	T_EQ_INT(pipe(p), 0);
	T_EQ_INT(pipe(q), 0);
	T_EQ_INT(ev_io_add(&io, p[0], 0, io_cb), 0);
	T_EQ_INT(io.added, 0);
	T_EQ_INT(write(p[1], "xy", 2), 2);
	T_EQ_INT(ev_io_mod(&io, 0), 0);		/* still nothing: no add */
	T_EQ_INT(io.added, 0);
	T_EQ_INT(ev_io_mod(&io, EPOLLIN), 0);
	T_EQ_INT(io.added, 1);
	memset(&stop, 0, sizeof(stop));
	ev_timer_set(&stop, ev_now() + 5000, (ev_timer_cb)ev_break);
	ev_run();
	T_EQ_INT(io_calls, 1);

	/* never watched: del and close are quiet */
	T_EQ_INT(ev_io_add(&idle, q[0], 0, io_cb), 0);
	ev_io_del(&idle);
	T_EQ_INT(idle.fd, -1);
	t_no_log("epoll_ctl");
	T_EQ_INT(close(q[0]), 0);

	/* closed while watched, with data still readable: never reported */
	T_EQ_INT(ev_io_close(&io), 0);
	T_EQ_INT(io.fd, -1);
	T_ASSERT(fcntl(p[0], F_GETFD) == -1 && errno == EBADF);
	ev_timer_set(&stop, ev_now() + 50, (ev_timer_cb)ev_break);
	ev_run();
	T_EQ_INT(io_calls, 1);
	T_EQ_INT(ev_io_close(&io), 0);		/* twice: harmless */
	close(p[1]);
	close(q[1]);
}

#define NLATE	100	/* more than close_late's first allocation */

static struct ev_io	late_io[NLATE];
static int		late_peer[NLATE], late_log = -1, late_turns;

static void
late_never(struct ev_io *io, uint32_t events)
{
	(void)io;
	(void)events;
	t_fail("a descriptor closed late was reported");
}

/*
 * 1 if the peer of a socketpair sees the end now (EOF, or a reset when
 * the closed end had unread bytes), 0 if nothing is there yet.
 */
static int
peer_eof(int fd)
{
	char b;
	ssize_t n = recv(fd, &b, 1, MSG_DONTWAIT);

	if (n == -1 && errno == EAGAIN)
		return 0;
	if (n == -1 && errno == ECONNRESET)
		return 1;
	T_EQ_INT(n, 0);
	return 1;
}

static int
log_has(const char *s)
{
	char buf[4096];
	ssize_t n = read(late_log, buf, sizeof(buf) - 1);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, s) != NULL;
}

static void
late_check(struct ev_timer *t)
{
	int i;

	(void)t;
	/* A turn later every peer sees EOF (the watcher has the first). */
	for (i = 1; i < NLATE; i++)
		T_ASSERT(peer_eof(late_peer[i]));
	late_turns++;
	ev_break();
}

static void
late_close(struct ev_timer *t)
{
	static struct ev_timer next;
	int i;

	(void)t;
	log_info("closing them");
	for (i = 0; i < NLATE; i++) {
		/* readable, but closed before the loop looks again */
		if (i > 0)
			T_EQ_INT(send(late_peer[i], "x", 1, 0), 1);
		ev_io_close_late(&late_io[i]);
		T_EQ_INT(late_io[i].fd, -1);
	}
	/* Within the turn: the line is held, and no peer sees the end. */
	T_ASSERT(!log_has("closing them"));
	for (i = 1; i < NLATE; i++)
		T_ASSERT(!peer_eof(late_peer[i]));
	memset(&next, 0, sizeof(next));
	ev_timer_set(&next, ev_now() + 20, late_check);
}

/*
 * A watcher process: waits for EOF on the first peer and, at that
 * instant, the line about it must be in the log already.
 */
static pid_t
late_watcher(int lpw)
{
	char b;
	pid_t pid;
	int i;

	if ((pid = fork()) != 0)
		return pid;
	/* its copies would keep the sockets and the log's pipe open */
	for (i = 0; i < NLATE; i++)
		close(late_io[i].fd);
	close(lpw);
	close(STDERR_FILENO);
	alarm(10);
	if (recv(late_peer[0], &b, 1, 0) != 0)
		_exit(2);
	_exit(log_has("closing them") ? 0 : 1);
}

/*
 * ev_io_close_late: within the loop, descriptors close when the turn
 * ends, after the turn's held log lines are written; outside the loop,
 * at once.
 */
static void
close_late(void)
{
	struct ev_timer first, stop;
	struct ev_io out;
	int i, sp[2], lp[2], saved, st;
	pid_t w;

	ev_init();
	T_EQ_INT(pipe(lp), 0);
	T_EQ_INT(fcntl(lp[0], F_SETFL, O_NONBLOCK), 0);
	late_log = lp[0];
	T_ASSERT((saved = dup(STDERR_FILENO)) != -1);
	T_EQ_INT(dup2(lp[1], STDERR_FILENO), STDERR_FILENO);
	for (i = 0; i < NLATE; i++) {
		T_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
		late_peer[i] = sp[1];
		T_EQ_INT(ev_io_add(&late_io[i], sp[0], EPOLLIN, late_never), 0);
	}
	memset(&first, 0, sizeof(first));
	memset(&stop, 0, sizeof(stop));
	ev_timer_set(&first, ev_now() + 1, late_close);
	ev_timer_set(&stop, ev_now() + 5000, (ev_timer_cb)ev_break);
	/*
	 * The watcher shares one CPU with this process, which yields it
	 * the CPU (nice 19): once a close wakes the watcher, it runs before
	 * this process goes on, so a close before the flush is caught.
	 */
	{
		cpu_set_t one;

		CPU_ZERO(&one);
		CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
		if (sched_setaffinity(0, sizeof(one), &one) == -1)
			t_fail("sched_setaffinity: %s", strerror(errno));
	}
	T_ASSERT((w = late_watcher(lp[1])) != -1);
	if (setpriority(PRIO_PROCESS, 0, 19) == -1)
		t_fail("setpriority: %s", strerror(errno));
	ev_run();
	T_EQ_INT(late_turns, 1);
	T_EQ_INT(waitpid(w, &st, 0), w);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		t_fail("the peer saw the end before the log line (status %d)",
		    st);
	ev_timer_del(&stop);

	/* outside the loop: closed at once */
	T_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	T_EQ_INT(ev_io_add(&out, sp[0], EPOLLIN, late_never), 0);
	ev_io_close_late(&out);
	T_EQ_INT(out.fd, -1);
	T_ASSERT(fcntl(sp[0], F_GETFD) == -1 && errno == EBADF);
	T_ASSERT(peer_eof(sp[1]));
	ev_io_close_late(&out);			/* twice: harmless */

	T_EQ_INT(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	close(sp[1]);
	for (i = 0; i < NLATE; i++)
		close(late_peer[i]);
	close(lp[0]);
	close(lp[1]);
}

const struct t_case t_cases[] = {
	T_CASE(random_heap),
	T_CASE(loop_fires_in_order),
	T_CASE(fifo_lists),
	T_CASE(lazy_io),
	T_CASE(close_late),
	{ NULL, NULL },
};
