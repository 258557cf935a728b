/*
 * nfthelper.c: spamd's parent process after the fork. It is the only
 * part of spamd with a privilege left (CAP_NET_ADMIN, permitted, raised
 * only around netlink sends), and it supervises the other two processes.
 *
 *	nfthelper_main(greyfd, tlsfd, smtp_pid, grey_pid)	never returns;
 *		tlsfd (-1 without -C/-K) carries certificates to the SMTP
 *		process
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
 * (RESYNC). Each change of state is logged once. The bookkeeping of
 * pending entries, back-off and resyncs is nftpend.c; this file does the
 * netlink work and the supervision. Polling instead of
 * subscribing to nftables events spares every batch, ours and the cron
 * job's, one kernel notification per element.
 *
 * In policy mode it also reads the nospamd sets at each watch and sends
 * them, when they changed, to the SMTP process (through the greylister),
 * which exempts those clients as the ruleset does in redirect mode.
 *
 * SIGHUP reads the STARTTLS certificate and key again and sends them to
 * the SMTP process (tlsload.c), which keeps the old ones if they do not
 * load. This process runs as the spamd user, so the files must be
 * readable by it; that is checked once at start, with a warning.
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
#include "spamd/metrics.h"
#include "spamd/nftpend.h"
#include "spamd/proto.h"
#include "spamd/spamd.h"
#include "spamd/tls.h"
#include "spamd/tlsload.h"

/* After the libc network headers (they clash otherwise). */
#include <linux/netfilter.h>

#define CHAN_MAXQ	(16u * 1024 * 1024)
#define WATCH_MS	5000		/* how often to look for a reloaded table */
#define REAP_TICKS	350		/* x 100 ms: beyond the greylister's drain */

static struct nft	*nft;
static struct chan	 grey;
static struct nftpend	*np;
static struct ev_timer	 push_tm, watch_tm;
static int		 watch_failed;
static pid_t		 smtp_pid, grey_pid;
static int		 child_died, stopping;

static const struct nft_set set4 = {
	NFT_TABLE, NFT_SET_WHITE4, NFPROTO_INET, AF_INET, 0
};
static const struct nft_set set6 = {
	NFT_TABLE, NFT_SET_WHITE6, NFPROTO_INET, AF_INET6, 0
};
static const struct nft_set nospamd4 = {
	NFT_TABLE, NFT_SET_NOSPAMD4, NFPROTO_INET, AF_INET, 1
};
/* Networks that passed (spamd -g): interval sets with timeouts. */
static const struct nft_set net4 = {
	NFT_TABLE, NFT_SET_WHITENET4, NFPROTO_INET, AF_INET, 1
};
static const struct nft_set net6 = {
	NFT_TABLE, NFT_SET_WHITENET6, NFPROTO_INET, AF_INET6, 1
};
static const struct nft_set nospamd6 = {
	NFT_TABLE, NFT_SET_NOSPAMD6, NFPROTO_INET, AF_INET6, 1
};
static uint64_t		 nospamd_hash;	/* of what was sent last */
static int		 nospamd_sent;

/*
 * Split entries by family, addresses or networks, into the nft elements
 * of one set, with their time left.
 */
static size_t
to_elems(const struct proto_entry *e, size_t n, const struct nft_set *set,
    struct nft_elem *out, int64_t now)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (e[i].a.af != set->af || (e[i].plen != 0) != set->interval ||
		    e[i].expire <= now)
			continue;
		memset(&out[k], 0, sizeof(out[k]));
		out[k].a = e[i].a;
		out[k].plen = e[i].plen;
		out[k].timeout_ms = (uint64_t)(e[i].expire - now) * 1000;
		k++;
	}
	return k;
}

/* Ask the greylister for the whole whitelist (nftpend's callback). */
static void
send_resync(void *arg)
{
	uint8_t buf[16];
	size_t len = proto_enc_bare(buf, sizeof(buf), PROTO_RESYNC);

	(void)arg;
	if (chan_send(&grey, buf, len) == -1)
		log_warnx("could not ask the greylister for a resync");
}

/* n elements went to a set, `refused' of them the kernel refused. */
static void
log_applied(const char *set, int replaced, size_t n, size_t refused)
{
	size_t ok = n - refused;

	if (replaced || refused > 0)
		log_info("%s: %s %zu address%s%s", set, replaced ? "now" :
		    "added", ok, ok == 1 ? "" : "es", refused > 0 ?
		    ", the kernel refused the rest" : "");
	else
		log_verbose("%s: added %zu address%s", set, ok,
		    ok == 1 ? "" : "es");
}

/*
 * Apply entries to both sets: replace (one batch per set) or add; the
 * callback nftpend calls. 0, or -1 with *why (and *missing when the
 * table or a set is not there).
 */
static int
apply(void *arg, const struct proto_entry *e, size_t n, int do_replace,
    const char **why, int *missing)
{
	const struct nft_set *sets[4] = { &set4, &set6, &net4, &net6 };
	struct nft_elem *el;
	int64_t now = clock_now();
	/* Without -g the network sets may be missing (an older ruleset). */
	int nsets = conf.group4 < 32 || conf.group6 < 128 ? 4 : 2;
	int i, rc = 0;

	(void)arg;
	if ((el = calloc(n ? n : 1, sizeof(*el))) == NULL) {
		*why = "out of memory for the elements";
		return -1;
	}
	if (priv_net_admin(1) == -1 && geteuid() != 0)
		log_debug("CAP_NET_ADMIN not available");
	for (i = 0; i < 4 && rc == 0; i++) {
		size_t k = to_elems(e, n, sets[i], el, now);
		int r;

		if ((!do_replace || i >= nsets) && k == 0)
			continue;
		r = do_replace ? nft_replace(nft, sets[i], el, k) :
		    nft_add(nft, sets[i], el, k, NFT_REFRESH);
		METRIC_INC(nft.batches);
		METRIC_ADD(nft.elements, k);
		if (r == -1) {
			METRIC_INC(nft.errors);
			*why = nft_errstr(nft);
			*missing = nft_error(nft) == ENOENT;
			rc = -1;
		} else
			log_applied(sets[i]->name, do_replace, k, (size_t)r);
	}
	priv_net_admin(0);
	free(el);
	return rc;
}

static void	push(struct ev_timer *);

/* Wake up when nftpend has a push due. */
static void
push_arm(void)
{
	METRIC_SET(nft.pending, nftpend_pending(np));
	ev_timer_in(&push_tm, nftpend_timeout(np), push);
}

static void
push(struct ev_timer *t)
{
	(void)t;
	nftpend_run(np);
	METRIC_SET(nft.pending, nftpend_pending(np));
	push_arm();
}

static void
grey_msg(struct chan *c, const uint8_t *buf, size_t len)
{
	struct proto_entry e[PROTO_ENTRIES_MAX];
	size_t n;
	int t = proto_type(buf, len);

	(void)c;
	switch (t) {
	case PROTO_WHITE:
	case PROTO_REPLACE:
		if (proto_dec_entries(buf, len, e, PROTO_ENTRIES_MAX, &n) == -1)
			break;
		if (t == PROTO_REPLACE)
			nftpend_replace_add(np, e, n);
		else
			nftpend_add(np, e, n);
		push_arm();
		return;
	case PROTO_REPLACE_BEGIN:
		nftpend_replace_begin(np);
		return;
	case PROTO_REPLACE_END:
		nftpend_replace_end(np);
		push_arm();
		return;
	}
	log_warnx("greylister sent a malformed message (%zu bytes)", len);
}

/* FNV-1a over the blocks: has the list changed since it was sent? */
static uint64_t
blocks_hash(uint64_t h, const struct nft_elem *el, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		const uint8_t *b = el[i].a.u.b;

		for (j = 0; j < 16; j++)
			h = (h ^ b[j]) * 1099511628211ULL;
		h = (h ^ el[i].a.af ^ ((uint64_t)el[i].plen << 8)) *
		    1099511628211ULL;
	}
	return h;
}

static void
send_blocks(const struct nft_elem *el, size_t n)
{
	struct proto_entry e[PROTO_ENTRIES_MAX];
	uint8_t buf[PROTO_MSG_MAX];
	size_t i, k, len;

	for (i = 0; i < n; i += k) {
		for (k = 0; k < PROTO_ENTRIES_MAX && i + k < n; k++) {
			e[k].a = el[i + k].a;
			e[k].expire = el[i + k].plen;	/* the length */
			e[k].plen = 0;		/* (not a -g network) */
		}
		len = proto_enc_entries(buf, sizeof(buf), PROTO_NOSPAMD, e, k);
		if (len == 0 || chan_send(&grey, buf, len) == -1)
			log_warnx("could not send %zu nospamd blocks", k);
	}
}

/*
 * Policy mode: Postfix asks about every client, so the SMTP process
 * needs the nospamd sets, which only this process may read. They are
 * read at every watch tick (the sets are small: the administrator's
 * list) and sent on when they changed. A missing table or set is an
 * empty list: the normal case on a host without nftables.
 */
static void
nospamd_poll(void)
{
	const struct nft_set *sets[2] = { &nospamd4, &nospamd6 };
	struct nft_elem *el[2] = { NULL, NULL };
	size_t n[2] = { 0, 0 };
	uint64_t h = 14695981039346656037ULL;
	uint8_t buf[16];
	int i;

	priv_net_admin(1);
	for (i = 0; i < 2; i++) {
		if (nft_list(nft, sets[i], &el[i], &n[i]) == -1) {
			if (nft_error(nft) != ENOENT)
				log_debug("cannot read %s: %s", sets[i]->name,
				    nft_errstr(nft));
			n[i] = 0;
		}
		h = blocks_hash(h, el[i], n[i]);
	}
	priv_net_admin(0);
	if (!nospamd_sent || h != nospamd_hash) {
		chan_send(&grey, buf, proto_enc_bare(buf, sizeof(buf),
		    PROTO_NOSPAMD_BEGIN));
		for (i = 0; i < 2; i++)
			send_blocks(el[i], n[i]);
		chan_send(&grey, buf, proto_enc_bare(buf, sizeof(buf),
		    PROTO_NOSPAMD_END));
		nospamd_hash = h;
		nospamd_sent = 1;
	}
	free(el[0]);
	free(el[1]);
}

static void
watch(struct ev_timer *t)
{
	uint64_t sig;
	int r;

	(void)t;
	if (conf.policy)
		nospamd_poll();
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
		(void)nftpend_watch(np, 0, 0);
		return;
	}
	watch_failed = 0;
	if (nftpend_watch(np, 1, sig))
		log_info("table inet %s was (re)loaded; restoring the "
		    "whitelist", NFT_TABLE);
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

static struct chan	 smtpch;	/* certificates to the SMTP process */
static int		 have_smtpch;

static void
on_hup(int sig)
{
	(void)sig;
	if (!have_smtpch) {
		log_info("SIGHUP: nothing to reload (no -C and -K)");
		return;
	}
	log_info("SIGHUP: reloading %s and %s", conf.tls_cert, conf.tls_key);
	(void)tlsload_send(&smtpch, conf.tls_cert, conf.tls_key);
}

/* Can SIGHUP read the files, now that we are the spamd user? */
static void
check_reload(void)
{
	const char *f[2] = { conf.tls_cert, conf.tls_key };
	char *buf, err[256];
	size_t len, i;

	for (i = 0; i < 2; i++) {
		if (tls_file_read(f[i], &buf, &len, err, sizeof(err)) == -1) {
			log_warnx("%s: %s as user %s: SIGHUP will not be able "
			    "to reload the certificate (make it readable, "
			    "e.g. with group ssl-cert)", f[i], err, conf.user);
			continue;
		}
		tls_cleanse(buf, len);
		free(buf);
	}
}

static void
smtpch_msg(struct chan *c, const uint8_t *buf, size_t len)
{
	(void)c;
	(void)buf;
	log_warnx("the SMTP process sent a message on the certificate "
	    "channel (%zu bytes); ignored", len);
}

static void
smtpch_closed(struct chan *c)
{
	(void)c;
	/* SIGCHLD says why. */
	have_smtpch = 0;
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
nfthelper_main(int greyfd, int tlsfd, pid_t spid, pid_t gpid)
{
	struct nftpend_conf npc = {
		.pending_max = NFTPEND_MAX,
		.retry_min_ms = NFTPEND_RETRY_MIN,
		.retry_max_ms = NFTPEND_RETRY_MAX,
		.apply = apply,
		.resync = send_resync,
	};
	int rc;

	log_procname("nft");
	(void)prctl(PR_SET_NAME, "spamd-nft", 0, 0, 0);
	smtp_pid = spid;
	grey_pid = gpid;
	ev_init();
	ev_signal(SIGCHLD, on_child);
	ev_signal(SIGTERM, on_term);
	ev_signal(SIGINT, on_term);
	ev_signal(SIGHUP, on_hup);
	signal(SIGPIPE, SIG_IGN);
	/* Raised so the socket gets its large buffers (SO_*BUFFORCE). */
	priv_net_admin(1);
	nft = nft_open("netlink");
	priv_net_admin(0);
	if (nft == NULL)
		fatalx("cannot open netlink: %s", nft_open_errstr());
	if ((np = nftpend_new(&npc)) == NULL)
		fatal("nft helper queue");
	if (chan_open(&grey, greyfd, "greylister", CHAN_MAXQ, grey_msg,
	    grey_closed) == -1)
		fatalx("cannot watch the greylister channel");
	if (tlsfd != -1) {
		if (chan_open(&smtpch, tlsfd, "SMTP process (certificates)",
		    4 * TLS_FILE_MAX, smtpch_msg, smtpch_closed) == -1)
			fatalx("cannot watch the channel to the SMTP process");
		smtpch.secret = 1;
		have_smtpch = 1;
		check_reload();
	}
	watch(NULL);
	ev_run();
	rc = reap();
	nftpend_free(np);
	nft_close(nft);
	/* Exit 1 when a child died on its own: the service manager restarts. */
	exit(child_died || rc ? 1 : 0);
}
