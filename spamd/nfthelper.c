/*
 * nfthelper.c: spamd's parent process after the fork. It is the only
 * part of spamd with a privilege left (CAP_NET_ADMIN, permitted, raised
 * only around netlink sends), and it supervises the other two processes.
 *
 *	nfthelper_main(greyfd, smtp_pid, grey_pid)	never returns
 *
 * From the greylister it takes WHITE addresses (added to spamd_white or
 * spamd_white6 with a per-element timeout equal to the record's expiry,
 * in one batch per set) and whole whitelists (REPLACE_BEGIN .. END: each
 * set is replaced in one batch, so no listed host is ever missing).
 *
 * Nothing is lost when nftables is not there: additions that fail stay
 * pending and are retried with back-off; when a failure means the table
 * or a set is missing, or when the table's signature (the kernel handles
 * of the table and its sets, polled every WATCH_MS) shows that it was
 * re-created (an admin reloaded the ruleset with `flush ruleset', which
 * empties the sets), it asks the greylister for the whole list again
 * (RESYNC). Each change of state is logged once. Polling instead of
 * subscribing to nftables events spares every batch, ours and the cron
 * job's, one kernel notification per element.
 *
 * If either child exits, the whole daemon exits, so that the service
 * manager restarts it in one piece (as OpenBSD's greywatcher does).
 */
#include <sys/prctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/pathnames.h"
#include "common/priv.h"
#include "nft/nft.h"
#include "spamd/chan.h"
#include "spamd/ev.h"
#include "spamd/proto.h"
#include "spamd/spamd.h"

/* After the libc network headers (they clash otherwise). */
#include <linux/netfilter.h>

#define RETRY_MIN	500		/* ms, doubled up to RETRY_MAX */
#define RETRY_MAX	30000
#define PENDING_MAX	1000000		/* addresses waiting for nftables */
#define CHAN_MAXQ	(16u * 1024 * 1024)
#define WATCH_MS	5000		/* how often to look for a reloaded table */
#define REAP_TICKS	350		/* x 100 ms: beyond the greylister's drain */

struct entries {
	struct proto_entry	*v;
	size_t			 n, cap;
};

static struct nft	*nft;
static struct chan	 grey;
static struct ev_timer	 push_tm, resync_tm, watch_tm;
static uint64_t		 table_sig;
static int		 table_sig_known, watch_failed;
static struct entries	 pending, replace;
static int		 in_replace, need_resync, failing;
static uint64_t		 retry_ms = RETRY_MIN;
static pid_t		 smtp_pid, grey_pid;
static struct log_ratelimit rl_full;
static int		 child_died, stopping;

static const struct nft_set set4 = {
	NFT_TABLE, NFT_SET_WHITE4, NFPROTO_INET, AF_INET, 0
};
static const struct nft_set set6 = {
	NFT_TABLE, NFT_SET_WHITE6, NFPROTO_INET, AF_INET6, 0
};

static int
entries_add(struct entries *e, const struct proto_entry *v, size_t n,
    size_t max)
{
	if (e->n + n > max)
		return -1;
	if (e->n + n > e->cap) {
		size_t ncap = e->cap ? e->cap : 1024;
		struct proto_entry *nv;

		while (ncap < e->n + n)
			ncap *= 2;
		if ((nv = reallocarray(e->v, ncap, sizeof(*nv))) == NULL)
			return -1;
		e->v = nv;
		e->cap = ncap;
	}
	memcpy(e->v + e->n, v, n * sizeof(*v));
	e->n += n;
	return 0;
}

static void
entries_clear(struct entries *e)
{
	free(e->v);
	memset(e, 0, sizeof(*e));
}

/* Split entries by family into nft elements with their time left. */
static size_t
to_elems(const struct entries *e, int af, struct nft_elem *out, int64_t now)
{
	size_t i, k = 0;

	for (i = 0; i < e->n; i++) {
		if (e->v[i].a.af != af || e->v[i].expire <= now)
			continue;
		memset(&out[k], 0, sizeof(out[k]));
		out[k].a = e->v[i].a;
		out[k].timeout_ms = (uint64_t)(e->v[i].expire - now) * 1000;
		k++;
	}
	return k;
}

static void
send_resync(void)
{
	uint8_t buf[16];
	size_t len = proto_enc_bare(buf, sizeof(buf), PROTO_RESYNC);

	if (chan_send(&grey, buf, len) == -1)
		log_warnx("could not ask the greylister for a resync");
}

/*
 * Apply entries to both sets: replace (one batch per set) or add.
 * Returns 0, or -1 when nftables refused (the error is logged on the
 * first failure after a success; ENOENT sets need_resync).
 */
static int
apply(const struct entries *e, int do_replace)
{
	const struct nft_set *sets[2] = { &set4, &set6 };
	struct nft_elem *el;
	int64_t now = clock_now();
	int i, rc = 0;

	if ((el = calloc(e->n ? e->n : 1, sizeof(*el))) == NULL) {
		log_warnx("out of memory for %zu nft elements", e->n);
		return -1;
	}
	if (priv_net_admin(1) == -1 && geteuid() != 0)
		log_debug("CAP_NET_ADMIN not available");
	for (i = 0; i < 2 && rc == 0; i++) {
		size_t n = to_elems(e, sets[i]->af, el, now);
		int r;

		if (!do_replace && n == 0)
			continue;
		r = do_replace ? nft_replace(nft, sets[i], el, n) :
		    nft_add(nft, sets[i], el, n, NFT_REFRESH);
		if (r == -1) {
			if (!failing)
				log_warnx("cannot update nftables: %s; will "
				    "retry", nft_errstr(nft));
			if (nft_error(nft) == ENOENT)
				need_resync = 1;
			rc = -1;
		} else {
			/* r elements were refused (each logged by nft). */
			size_t ok = n - (size_t)r;

			if (do_replace || r > 0)
				log_info("%s: %s %zu address%s%s", sets[i]->name,
				    do_replace ? "now" : "added", ok,
				    ok == 1 ? "" : "es",
				    r > 0 ? ", the kernel refused the rest" :
				    "");
			else
				log_verbose("%s: added %zu address%s",
				    sets[i]->name, ok, ok == 1 ? "" : "es");
		}
	}
	priv_net_admin(0);
	free(el);
	return rc;
}

static void push(struct ev_timer *);

static void
retry_later(void)
{
	failing = 1;
	ev_timer_set(&push_tm, ev_now() + retry_ms, push);
	if ((retry_ms *= 2) > RETRY_MAX)
		retry_ms = RETRY_MAX;
}

static void
recovered(void)
{
	if (failing)
		log_warnx("nftables updates work again");
	failing = 0;
	retry_ms = RETRY_MIN;
	if (need_resync) {
		need_resync = 0;
		send_resync();
	}
}

static void
push(struct ev_timer *t)
{
	(void)t;
	if (pending.n == 0) {
		/*
		 * Nothing to add: the retry is a whole-list resync, and the
		 * REPLACE it brings is the probe. Its outcome, not this
		 * request, says whether nftables works again.
		 */
		if (need_resync) {
			need_resync = 0;
			send_resync();
		}
		return;
	}
	/* The greylister may name an address in several messages. */
	pending.n = proto_entries_uniq(pending.v, pending.n);
	if (apply(&pending, 0) == -1) {
		retry_later();
		return;
	}
	entries_clear(&pending);
	recovered();
}

static void
do_replace(void)
{
	if (apply(&replace, 1) == -1) {
		/* The greylister sends a fresh list when we ask again. */
		need_resync = 1;
		retry_later();
	} else {
		/* A replace holds every pending addition too. */
		entries_clear(&pending);
		recovered();
	}
	entries_clear(&replace);
}

static void
grey_msg(struct chan *c, const uint8_t *buf, size_t len)
{
	struct proto_entry e[PROTO_ENTRIES_MAX];
	size_t n;
	unsigned long dropped;
	int t = proto_type(buf, len);

	(void)c;
	switch (t) {
	case PROTO_WHITE:
	case PROTO_REPLACE:
		if (proto_dec_entries(buf, len, e, PROTO_ENTRIES_MAX, &n) == -1)
			break;
		if (t == PROTO_REPLACE) {
			if (in_replace &&
			    entries_add(&replace, e, n, SIZE_MAX / 2) == -1)
				log_warnx("out of memory for the whitelist");
			return;
		}
		if (entries_add(&pending, e, n, PENDING_MAX) == -1) {
			if ((dropped = log_ratelimit(&rl_full, 10)) != 0)
				log_warnx("%zu addresses waiting for "
				    "nftables: dropped some; the next resync "
				    "restores them", pending.n);
			need_resync = 1;
			return;
		}
		if (!failing)
			ev_timer_set(&push_tm, ev_now(), push);
		return;
	case PROTO_REPLACE_BEGIN:
		entries_clear(&replace);
		in_replace = 1;
		return;
	case PROTO_REPLACE_END:
		if (in_replace)
			do_replace();
		in_replace = 0;
		return;
	}
	log_warnx("greylister sent a malformed message (%zu bytes)", len);
}

static void
resync_now(struct ev_timer *t)
{
	(void)t;
	send_resync();
}

static void
watch(struct ev_timer *t)
{
	uint64_t sig;
	int r;

	(void)t;
	priv_net_admin(1);
	r = nft_signature(NFT_TABLE, &sig);
	priv_net_admin(0);
	ev_timer_set(&watch_tm, ev_now() + WATCH_MS, watch);
	if (r == -1) {
		if (!watch_failed)
			log_warn("cannot look at table inet %s; a ruleset "
			    "reload will be noticed only when an update fails",
			    NFT_TABLE);
		watch_failed = 1;
		return;
	}
	watch_failed = 0;
	if (table_sig_known && sig != table_sig) {
		log_info("table inet %s was (re)loaded; restoring the "
		    "whitelist", NFT_TABLE);
		ev_timer_set(&resync_tm, ev_now(), resync_now);
	}
	table_sig = sig;
	table_sig_known = 1;
}

static void
stop_children(int sig)
{
	if (smtp_pid > 0)
		kill(smtp_pid, sig);
	if (grey_pid > 0)
		kill(grey_pid, sig);
}

/* What a waited-for pid was; call it before forgetting the pid. */
static const char *
child_name(pid_t pid)
{
	return pid == smtp_pid ? "SMTP process" :
	    pid == grey_pid ? "greylister" : "child";
}

/*
 * Log how a child ended, at WARN: "<who> (pid N) killed by the
 * sandbox<why><when>", "... killed by signal S<when>" or "... exited
 * with status X<when>". `why' explains SIGSYS, `when' ends each line.
 */
static void
child_log(const char *who, pid_t pid, int status, const char *why,
    const char *when)
{
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		log_warnx("%s (pid %d) killed by the sandbox%s%s", who,
		    (int)pid, why, when);
	else if (WIFSIGNALED(status))
		log_warnx("%s (pid %d) killed by signal %d%s", who, (int)pid,
		    WTERMSIG(status), when);
	else
		log_warnx("%s (pid %d) exited with status %d%s", who,
		    (int)pid, WEXITSTATUS(status), when);
}

static void
on_child(int sig)
{
	pid_t pid;
	int status;

	(void)sig;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		const char *who = child_name(pid);

		if (pid == smtp_pid)
			smtp_pid = -1;
		if (pid == grey_pid)
			grey_pid = -1;
		if (stopping && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0) {
			log_debug("%s (pid %d) stopped", who, (int)pid);
			continue;
		}
		child_log(who, pid, status,
		    ": a system call outside its allow-list", "; stopping");
		child_died = 1;
		/*
		 * Without a greylister the SMTP process must stop; without
		 * the SMTP process the greylister stops by itself once it
		 * has committed what it received (end of the channel).
		 */
		if (smtp_pid > 0)
			kill(smtp_pid, SIGTERM);
		ev_break();
	}
}

static void
on_term(int sig)
{
	log_info("exiting on signal %d", sig);
	stopping = 1;
	/*
	 * Stop the SMTP process only: it sends what it still has to the
	 * greylister and closes the channel, and the greylister commits
	 * everything and exits on that end. Nothing accepted is lost.
	 */
	if (smtp_pid > 0)
		kill(smtp_pid, SIGTERM);
	ev_break();
}

static void
grey_closed(struct chan *c)
{
	(void)c;
	/* SIGCHLD says why; this only stops reading a dead channel. */
}

/*
 * Wait for the children: the greylister may need a while to commit a
 * backlog (it gives up by itself after its own bound). Then kill what
 * is left.
 */
static int
reap(void)
{
	int i, status, rc = 0;

	for (i = 0; i < REAP_TICKS && (smtp_pid > 0 || grey_pid > 0); i++) {
		pid_t pid = waitpid(-1, &status, WNOHANG);

		if (pid > 0) {
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				child_log(child_name(pid), pid, status, "",
				    " while stopping");
				rc = 1;
			}
			if (pid == smtp_pid)
				smtp_pid = -1;
			if (pid == grey_pid)
				grey_pid = -1;
			continue;
		}
		usleep(100000);
	}
	if (smtp_pid > 0 || grey_pid > 0) {
		log_warnx("children still running after %d s; killing them",
		    REAP_TICKS / 10);
		stop_children(SIGKILL);
		rc = 1;
	}
	return rc;
}

void
nfthelper_main(int greyfd, pid_t spid, pid_t gpid)
{
	int rc;

	log_procname("nft");
	(void)prctl(PR_SET_NAME, "spamd-nft", 0, 0, 0);
	smtp_pid = spid;
	grey_pid = gpid;
	ev_init();
	ev_signal(SIGCHLD, on_child);
	ev_signal(SIGTERM, on_term);
	ev_signal(SIGINT, on_term);
	ev_signal(SIGHUP, on_term);
	signal(SIGPIPE, SIG_IGN);
	/* Raised so the socket gets its large buffers (SO_*BUFFORCE). */
	priv_net_admin(1);
	nft = nft_open("netlink");
	priv_net_admin(0);
	if (nft == NULL)
		fatalx("cannot open netlink: %s", nft_open_errstr());
	if (chan_open(&grey, greyfd, "greylister", CHAN_MAXQ, grey_msg,
	    grey_closed) == -1)
		fatalx("cannot watch the greylister channel");
	watch(NULL);
	ev_run();
	rc = reap();
	nft_close(nft);
	/* Exit 1 when a child died on its own: the service manager restarts. */
	exit(child_died || rc ? 1 : 0);
}
