/*
 * ev.c: epoll + timer heap + signalfd (see ev.h).
 *
 * One loop per process, so the state is file-static. The heap holds
 * pointers to timers; each timer remembers its slot so that moving or
 * cancelling it costs O(log n). A stuttering tarpit re-arms one timer per
 * connection per byte, which is exactly the operation made cheap here.
 */
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/signalfd.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "spamd/ev.h"

#define EV_MAXEVENTS	256

static int		 epfd = -1;
static int		 running;
static uint64_t		 now_ms;
static struct ev_timer	**heap;
static size_t		 heap_n, heap_cap;
static struct ev_fifo	*fifos;
static struct ev_io	 sig_io;
static sigset_t		 sig_mask;
static ev_signal_cb	 sig_cb[NSIG];
static void		**graveyard;
static size_t		 grave_n, grave_cap;
static int		*closing;	/* ev_io_close_late: fds to close */
static size_t		 closing_n, closing_cap;

uint64_t
ev_now(void)
{
	return now_ms;
}

void
ev_init(void)
{
	if (epfd != -1)
		close(epfd);
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	sigemptyset(&sig_mask);
	sig_io.fd = -1;
	heap_n = 0;
	fifos = NULL;
	now_ms = clock_mono_ms();
}

int
ev_io_add(struct ev_io *io, int fd, uint32_t events, ev_io_cb cb)
{
	io->fd = fd;
	io->cb = cb;
	io->events = 0;
	io->added = 0;
	/* Watching for nothing needs no epoll_ctl yet: ev_io_mod adds it. */
	return events == 0 ? 0 : ev_io_mod(io, events);
}

int
ev_io_mod(struct ev_io *io, uint32_t events)
{
	struct epoll_event ee;

	if (io->events == events && (io->added || events == 0))
		return 0;
	memset(&ee, 0, sizeof(ee));
	ee.events = events;
	ee.data.ptr = io;
	if (epoll_ctl(epfd, io->added ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, io->fd,
	    &ee) == -1) {
		log_warn("epoll_ctl %s fd %d", io->added ? "mod" : "add",
		    io->fd);
		return -1;
	}
	io->added = 1;
	io->events = events;
	return 0;
}

void
ev_io_del(struct ev_io *io)
{
	if (io->fd == -1)
		return;
	if (io->added && epoll_ctl(epfd, EPOLL_CTL_DEL, io->fd, NULL) == -1 &&
	    errno != EBADF && errno != ENOENT)
		log_warn("epoll_ctl del fd %d", io->fd);
	io->fd = -1;
	io->added = 0;
}

int
ev_io_close(struct ev_io *io)
{
	int fd = io->fd;

	/* Closing the only descriptor of a file takes it out of epoll. */
	io->fd = -1;
	io->added = 0;
	return fd == -1 ? 0 : close(fd);
}

static void
close_fd(int fd)
{
	if (close(fd) == -1)
		log_warn("close fd %d", fd);
}

void
ev_io_close_late(struct ev_io *io)
{
	int fd = io->fd;

	if (fd == -1)
		return;
	/*
	 * Until the turn ends the descriptor stays in epoll, but nothing
	 * waits on epoll before close_pending, and this batch's later
	 * events for it are skipped (io->fd is -1).
	 */
	io->fd = -1;
	io->added = 0;
	if (running && closing_n == closing_cap) {
		size_t ncap = closing_cap ? closing_cap * 2 : 64;
		int *nc = reallocarray(closing, ncap, sizeof(*nc));

		if (nc != NULL) {
			closing = nc;
			closing_cap = ncap;
		}
	}
	if (!running || closing_n == closing_cap) {
		/* Outside the loop, or out of memory: the lines, then fd. */
		log_flush();
		close_fd(fd);
		return;
	}
	closing[closing_n++] = fd;
}

/* The turn's log lines are out (log_flush): now the peers may see EOF. */
static void
close_pending(void)
{
	while (closing_n > 0)
		close_fd(closing[--closing_n]);
}

/* Heap helpers: slot is 1-based so that 0 can mean "not armed". */
static void
heap_place(struct ev_timer *t, size_t i)
{
	heap[i] = t;
	t->slot = (uint32_t)i + 1;
}

static void
heap_up(size_t i)
{
	struct ev_timer *t = heap[i];

	while (i > 0) {
		size_t p = (i - 1) / 2;

		if (heap[p]->when <= t->when)
			break;
		heap_place(heap[p], i);
		i = p;
	}
	heap_place(t, i);
}

static void
heap_down(size_t i)
{
	struct ev_timer *t = heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= heap_n)
			break;
		if (c + 1 < heap_n && heap[c + 1]->when < heap[c]->when)
			c++;
		if (t->when <= heap[c]->when)
			break;
		heap_place(heap[c], i);
		i = c;
	}
	heap_place(t, i);
}

static void
fifo_unlink(struct ev_timer *t)
{
	struct ev_fifo *f = t->fifo;

	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		f->head = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
	else
		f->tail = t->prev;
	t->prev = t->next = NULL;
	t->fifo = NULL;
	f->n--;
}

void
ev_fifo_init(struct ev_fifo *f, uint64_t delay)
{
	memset(f, 0, sizeof(*f));
	f->delay = delay;
	f->link = fifos;
	fifos = f;
}

void
ev_timer_fifo(struct ev_timer *t, struct ev_fifo *f, ev_timer_cb cb)
{
	ev_timer_del(t);
	t->cb = cb;
	t->when = now_ms + f->delay;
	t->fifo = f;
	t->next = NULL;
	t->prev = f->tail;
	if (f->tail != NULL)
		f->tail->next = t;
	else
		f->head = t;
	f->tail = t;
	f->n++;
}

void
ev_timer_in(struct ev_timer *t, int64_t ms, ev_timer_cb cb)
{
	if (ms < 0)
		ev_timer_del(t);
	else
		ev_timer_set(t, ev_now() + (uint64_t)ms, cb);
}

void
ev_timer_del(struct ev_timer *t)
{
	size_t i;

	if (t->fifo != NULL) {
		fifo_unlink(t);
		return;
	}
	if (t->slot == 0)
		return;
	i = t->slot - 1;
	t->slot = 0;
	if (--heap_n == i)
		return;
	heap_place(heap[heap_n], i);
	heap_up(i);
	heap_down(heap[i]->slot - 1);
}

void
ev_timer_set(struct ev_timer *t, uint64_t when, ev_timer_cb cb)
{
	if (t->fifo != NULL)
		fifo_unlink(t);
	t->cb = cb;
	if (t->slot != 0) {
		size_t i = t->slot - 1;
		uint64_t old = t->when;

		t->when = when;
		if (when < old)
			heap_up(i);
		else
			heap_down(i);
		return;
	}
	if (heap_n == heap_cap) {
		size_t ncap = heap_cap ? heap_cap * 2 : 1024;
		struct ev_timer **nh = reallocarray(heap, ncap, sizeof(*nh));

		if (nh == NULL)
			fatal("timer heap");
		heap = nh;
		heap_cap = ncap;
	}
	t->when = when;
	heap_place(t, heap_n++);
	heap_up(heap_n - 1);
}

int
ev_timer_armed(const struct ev_timer *t)
{
	return t->slot != 0 || t->fifo != NULL;
}

size_t
ev_timers(void)
{
	struct ev_fifo *f;
	size_t n = heap_n;

	for (f = fifos; f != NULL; f = f->link)
		n += f->n;
	return n;
}

/* The armed timer due first: the heap's top or a list's head. */
static struct ev_timer *
earliest(void)
{
	struct ev_timer *t = heap_n > 0 ? heap[0] : NULL;
	struct ev_fifo *f;

	for (f = fifos; f != NULL; f = f->link)
		if (f->head != NULL && (t == NULL || f->head->when < t->when))
			t = f->head;
	return t;
}

static void
sig_read(struct ev_io *io, uint32_t events)
{
	struct signalfd_siginfo si;
	ssize_t n;

	(void)events;
	while ((n = read(io->fd, &si, sizeof(si))) == sizeof(si)) {
		if (si.ssi_signo < NSIG && sig_cb[si.ssi_signo] != NULL)
			sig_cb[si.ssi_signo]((int)si.ssi_signo);
	}
	if (n == -1 && errno != EAGAIN && errno != EINTR)
		log_warn("signalfd read");
}

void
ev_signal(int sig, ev_signal_cb cb)
{
	sig_cb[sig] = cb;
	sigaddset(&sig_mask, sig);
	if (sigprocmask(SIG_BLOCK, &sig_mask, NULL) == -1)
		fatal("sigprocmask");
	if (sig_io.fd == -1) {
		int fd = signalfd(-1, &sig_mask, SFD_NONBLOCK | SFD_CLOEXEC);

		if (fd == -1)
			fatal("signalfd");
		if (ev_io_add(&sig_io, fd, EPOLLIN, sig_read) == -1)
			fatalx("cannot watch the signal descriptor");
	} else if (signalfd(sig_io.fd, &sig_mask, 0) == -1)
		fatal("signalfd");
}

void
ev_free_later(void *p)
{
	if (grave_n == grave_cap) {
		size_t ncap = grave_cap ? grave_cap * 2 : 64;
		void **ng = reallocarray(graveyard, ncap, sizeof(*ng));

		if (ng == NULL) {
			/* Leaking is safer than a use-after-free. */
			log_warnx("ev_free_later: out of memory");
			return;
		}
		graveyard = ng;
		grave_cap = ncap;
	}
	graveyard[grave_n++] = p;
}

static void
bury(void)
{
	while (grave_n > 0)
		free(graveyard[--grave_n]);
}

void
ev_break(void)
{
	running = 0;
}

#define EV_PREWAIT_MAX	4

static void	(*prewait[EV_PREWAIT_MAX])(void);
static int	nprewait;

void
ev_prewait(void (*fn)(void))
{
	int i;

	for (i = 0; i < nprewait; i++)
		if (prewait[i] == fn)
			return;
	if (nprewait == EV_PREWAIT_MAX)
		fatalx("ev_prewait: more than %d hooks", EV_PREWAIT_MAX);
	prewait[nprewait++] = fn;
}

void
ev_run(void)
{
	struct epoll_event evs[EV_MAXEVENTS];

	running = 1;
	log_defer(1);
	while (running) {
		struct ev_timer *t;
		int timeout = -1, n, i;

		now_ms = clock_mono_ms();
		if ((t = earliest()) != NULL) {
			uint64_t w = t->when;

			timeout = w <= now_ms ? 0 :
			    (w - now_ms > 60000 ? 60000 : (int)(w - now_ms));
		}
		/* What this turn gathered: messages, then log lines. */
		for (i = 0; i < nprewait; i++)
			prewait[i]();
		log_flush();
		close_pending();
		n = epoll_wait(epfd, evs, EV_MAXEVENTS, timeout);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			fatal("epoll_wait");
		}
		now_ms = clock_mono_ms();
		for (i = 0; i < n && running; i++) {
			struct ev_io *io = evs[i].data.ptr;

			/* A callback earlier in this batch may have closed it. */
			if (io->fd == -1)
				continue;
			io->cb(io, evs[i].events);
		}
		bury();
		/* Fire due timers; a callback may re-arm its own timer. */
		while (running && (t = earliest()) != NULL &&
		    t->when <= now_ms) {
			ev_timer_del(t);
			t->cb(t);
		}
		bury();
	}
	log_defer(0);	/* what comes after the loop is written at once */
	close_pending();
}

static void
listener_resume(struct ev_timer *t)
{
	struct ev_listener *l = EV_CONTAINER(t, struct ev_listener, pause);

	ev_io_mod(&l->io, EPOLLIN);
}

int
ev_accept(struct ev_listener *l, struct sockaddr *sa, unsigned int *len)
{
	static struct log_ratelimit rl;
	int fd;

	for (;;) {
		if ((fd = accept4(l->io.fd, sa, (socklen_t *)len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1)
			return fd;
		switch (errno) {
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
			continue;
		case EAGAIN:
			return -1;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			/* Out of descriptors: pause, like OpenBSD. */
			if (log_ratelimit(&rl, 10))
				log_warn("%s: accept (pausing for 1 s)",
				    l->what);
			ev_io_mod(&l->io, 0);
			ev_timer_in(&l->pause, 1000, listener_resume);
			return -1;
		default:
			log_warn("%s: accept", l->what);
			return -1;
		}
	}
}
