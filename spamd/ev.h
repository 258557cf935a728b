/*
 * ev.h: the event loop of spamd's processes: epoll for descriptors, a
 * binary min-heap for timers (one slot per timer, O(log n) to set, move
 * or cancel, never a scan of all connections), signalfd for signals.
 *
 *	ev_init()			create the loop (once per process)
 *	ev_io_add(io, fd, events, cb)	watch fd for EPOLLIN/EPOLLOUT (with
 *					events 0, epoll hears of fd only at
 *					the first ev_io_mod that wants some)
 *	ev_io_mod(io, events)		change the watched events (0 = none)
 *	ev_io_del(io)			stop watching (call before close)
 *	ev_io_close(io)			stop watching and close fd, in one
 *					system call: for a descriptor never
 *					duplicated (close takes it out of
 *					epoll); close(2)'s result
 *	ev_io_close_late(io)		the same, but the descriptor is closed
 *					when the turn ends, after the turn's
 *					log lines are written, before the loop
 *					waits again (at once outside the loop):
 *					a peer that sees the end finds the lines
 *					about it, and one write serves a whole
 *					turn's sessions
 *	ev_timer_set(t, when_ms, cb)	(re)arm a timer at monotonic ms
 *	ev_timer_in(t, ms, cb)		(re)arm it ms from now, or disarm it
 *					if ms < 0: what a module's
 *					*_timeout() answers
 *	ev_fifo_init(f, delay_ms)	a list of timers that all wait delay_ms
 *	ev_timer_fifo(t, f, cb)		(re)arm t at now + f's delay, O(1)
 *	ev_timer_del(t)			disarm (harmless if not armed)
 *	ev_timer_armed(t)		1 if armed
 *	ev_signal(sig, cb)		deliver sig through the loop
 *	ev_run()			loop until ev_break()
 *	ev_prewait(fn)			call fn() each time before the loop
 *					waits (once per fn; at most 4): work
 *					gathered during a turn goes out then
 *	ev_break()
 *	ev_now()			monotonic ms, cached per loop iteration
 *	ev_timers()			number of armed timers (tests, stats)
 *	ev_accept(l, sa, len)		accept one connection on listener l
 *					(non-blocking, close-on-exec): its
 *					descriptor, or -1 when there is none
 *					now; out of descriptors or memory, l
 *					pauses for 1 s (a warning naming l->what
 *					at most every 10 s) instead of spinning
 *	ev_free_later(p)		free(p) after the current batch of events:
 *					an event later in the batch may still point
 *					at an object a callback just closed
 *
 * Callbacks get their struct back; embed the struct in a larger one and
 * recover it with container_of-style arithmetic (EV_CONTAINER).
 *
 * FIFO lists: timers that all wait the same delay expire in the order
 * they were armed (the loop's clock never goes back), so a list in that
 * order needs no heap. The tarpit re-arms one timer per connection per
 * stuttered byte; a FIFO makes that O(1) instead of O(log n).
 */
#ifndef EV_H
#define EV_H

#include <stddef.h>
#include <stdint.h>

struct ev_io;
struct ev_timer;

typedef void (*ev_io_cb)(struct ev_io *, uint32_t);
typedef void (*ev_timer_cb)(struct ev_timer *);
typedef void (*ev_signal_cb)(int);

struct ev_io {
	int		fd;
	int		added;		/* epoll knows fd */
	uint32_t	events;
	ev_io_cb	cb;
};

struct ev_fifo;

struct ev_timer {
	uint64_t	 when;		/* monotonic ms */
	uint32_t	 slot;		/* heap index + 1; 0 = not in the heap */
	ev_timer_cb	 cb;
	struct ev_fifo	*fifo;		/* the list it waits in, or NULL */
	struct ev_timer	*prev, *next;	/* its neighbours in that list */
};

struct ev_fifo {
	uint64_t	 delay;		/* ms */
	struct ev_timer	*head, *tail;
	size_t		 n;
	struct ev_fifo	*link;		/* all lists, for the loop */
};

/* A listening socket: its watcher and the timer of a pause (ev_accept). */
struct ev_listener {
	struct ev_io	 io;
	struct ev_timer	 pause;
	const char	*what;		/* for the warning: "policy", ... */
};

#define EV_CONTAINER(p, type, member) \
	((type *)(void *)((char *)(p) - offsetof(type, member)))

void		ev_init(void);
int		ev_io_add(struct ev_io *, int, uint32_t, ev_io_cb);
int		ev_io_mod(struct ev_io *, uint32_t);
void		ev_io_del(struct ev_io *);
int		ev_io_close(struct ev_io *);
void		ev_io_close_late(struct ev_io *);
void		ev_timer_set(struct ev_timer *, uint64_t, ev_timer_cb);
void		ev_timer_in(struct ev_timer *, int64_t, ev_timer_cb);
void		ev_fifo_init(struct ev_fifo *, uint64_t);
void		ev_timer_fifo(struct ev_timer *, struct ev_fifo *, ev_timer_cb);
void		ev_timer_del(struct ev_timer *);
int		ev_timer_armed(const struct ev_timer *);
void		ev_signal(int, ev_signal_cb);
void		ev_run(void);
void		ev_prewait(void (*)(void));
void		ev_break(void);
uint64_t	ev_now(void);
size_t		ev_timers(void);
void		ev_free_later(void *);
struct sockaddr;
int		ev_accept(struct ev_listener *, struct sockaddr *,
		    unsigned int *);

#endif /* EV_H */
