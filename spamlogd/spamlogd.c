/*
 * spamlogd.c: keep hosts that exchange mail with us on the whitelist.
 *
 *	usage: spamlogd [-DI] [-f dbfile] [-g v4len:v6len] [-i interface]
 *	    [-l pcapdev] [-W whiteexp] [--config-socket path]
 *	    [--log syslog|stderr|file] [--pidfile file]
 *
 * Watches the connection openings that the nft log rules of
 * nft/spamd.nft send to NFLOG group 25 (capture.c, nflog.c): a white host
 * connecting to our MTA gets its WHITE record refreshed, a host our MTA
 * connects to gets one created (unless -I). Records are written in
 * batches and the nft white sets' timeouts are refreshed (refresh.c).
 * Before a push, spamd is asked over its unix socket which of the
 * addresses are blacklisted (common/blquery.h): those never enter the
 * white sets, whatever their record says (spamd drops such records at
 * its next resync). If spamd is not running, nothing is listed; if it
 * cannot be asked, the push fails and is retried with its back-off.
 * This file holds main(): options, privileges, the poll loop, signals,
 * and the capture's reopen back-off.
 *
 * Privileges: the capture is activated and the netlink socket opened as
 * root; then the process becomes SPAMD_USER with only CAP_NET_ADMIN
 * permitted (common/priv.c), raised to effective only around nft sends
 * and around reopening the capture (binding an NFLOG group needs it too,
 * and SIGHUP or a capture error reopens it). A savefile replay keeps no
 * capability and touches only the database.
 *
 * Signals: SIGTERM and SIGINT write the pending batch and exit 0; SIGHUP
 * reopens the capture. They are blocked except inside ppoll, so a signal
 * never lands between checking the flags and sleeping.
 */
#include <sys/types.h>

#include <net/if.h>
#include <netinet/in.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* libc headers before <linux/netfilter.h>: struct in_addr clashes. */
#include <linux/netfilter.h>

#include "common/blquery.h"
#include "common/clock.h"
#include "common/compat.h"
#include "common/greydb.h"
#include "common/greylist.h"
#include "common/log.h"
#include "common/pathnames.h"
#include "common/pidfile.h"
#include "common/priv.h"
#include "common/util.h"
#include "nft/nft.h"
#include "spamd/sync.h"
#include "spamlogd/capture.h"
#include "spamlogd/refresh.h"

#define DEFAULT_DEV		"nflog:25"
#define REOPEN_MIN_MS		1000
#define REOPEN_MAX_MS		60000
#define START_LOCK_WAIT_MS	1000	/* the start-up writability check */

static volatile sig_atomic_t	got_term, got_hup;
static const char		*cfgsock = PATH_SPAMD_SOCK;

/* Long options: beyond OpenBSD's letters (as spamd's). */
enum {
	OPT_LONG_FIRST = 256,
	OPT_CONFIG_SOCKET,	/* --config-socket /path */
	OPT_LOG,		/* --log syslog|stderr|/path */
	OPT_PIDFILE,		/* --pidfile /path */
	OPT_SYNC_PEER,		/* --sync-peer host[:port], as spamd's */
	OPT_SYNC_KEY,		/* --sync-key file */
};

static const struct option long_opts[] = {
	{ "config-socket", required_argument, NULL, OPT_CONFIG_SOCKET },
	{ "log",	required_argument,	NULL,	OPT_LOG },
	{ "pidfile",	required_argument,	NULL,	OPT_PIDFILE },
	{ "sync-peer",	required_argument,	NULL,	OPT_SYNC_PEER },
	{ "sync-key",	required_argument,	NULL,	OPT_SYNC_KEY },
	{ NULL, 0, NULL, 0 }
};

static __dead void
usage(void)
{
	fprintf(stderr, "usage: spamlogd [-DI] [-f dbfile] [-g v4len:v6len] "
	    "[-i interface]\n"
	    "                [-l pcapdev] [-W whiteexp] [-Y synctarget]\n"
	    "                [--sync-peer host] [--sync-key file]\n"
	    "                [--config-socket path]\n"
	    "                [--log syslog|stderr|file] [--pidfile file]\n");
	exit(1);
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_term = 1;
}

/*
 * Copy the elements spamd does not list into *kept (malloc'd); their
 * number, or -1 with *why when spamd cannot be asked.
 */
static ssize_t
unlisted(const char *setname, const struct nft_elem *el, size_t n,
    struct nft_elem **kept, const char **why)
{
	static char msg[600];
	char err[512], ip[ADDR_STRLEN];
	struct cidr *v;
	unsigned char *flag;
	size_t i, k = 0;
	int r;

	v = calloc(n, sizeof(*v));
	flag = calloc(n, 1);
	*kept = calloc(n, sizeof(**kept));
	if (v == NULL || flag == NULL || *kept == NULL) {
		*why = "out of memory asking spamd about blacklists";
		goto fail;
	}
	for (i = 0; i < n; i++) {
		v[i].a = el[i].a;
		v[i].plen = el[i].plen != 0 ? el[i].plen :
		    (uint8_t)(8 * addr_len(&el[i].a));
	}
	if ((r = blquery_ask(cfgsock, v, n, flag, err, sizeof(err))) == -1) {
		(void)snprintf(msg, sizeof(msg), "cannot ask spamd (%s) which "
		    "addresses are blacklisted: %s", cfgsock, err);
		*why = msg;
		goto fail;
	}
	if (r == BLQUERY_NOSPAMD)
		log_verbose("spamd is not running (nothing listens on %s): "
		    "no blacklist is loaded, none checked", cfgsock);
	for (i = 0; i < n; i++) {
		if (!flag[i]) {
			(*kept)[k++] = el[i];
			continue;
		}
		log_info("%s is on a blacklist of spamd: not adding it to %s",
		    addr_ntop(&el[i].a, ip, sizeof(ip)), setname);
	}
	free(v);
	free(flag);
	return (ssize_t)k;
fail:
	free(v);
	free(flag);
	free(*kept);
	*kept = NULL;
	return -1;
}

/*
 * nft_add on the white set of one family, CAP_NET_ADMIN raised for it,
 * of the elements spamd does not blacklist.
 */
static int
push_white(void *arg, int af, const struct nft_elem *all, size_t nall,
    const char **why)
{
	static int warned;
	struct nft *nft = arg;
	struct nft_set set;
	struct nft_elem *el;
	ssize_t n;
	int raised, rc;

	memset(&set, 0, sizeof(set));
	set.table = NFT_TABLE;
	/* A queue holds addresses, or (spamd -g) networks only. */
	set.interval = nall > 0 && all[0].plen != 0;
	if (set.interval)
		set.name = af == AF_INET6 ? NFT_SET_WHITENET6 :
		    NFT_SET_WHITENET4;
	else
		set.name = af == AF_INET6 ? NFT_SET_WHITE6 : NFT_SET_WHITE4;
	set.family = NFPROTO_INET;
	set.af = (uint8_t)af;
	if ((n = unlisted(set.name, all, nall, &el, why)) <= 0) {
		free(el);
		return n == 0 ? 0 : -1;
	}
	if (!(raised = priv_net_admin(1) == 0) && !warned) {
		log_warnx("CAP_NET_ADMIN is not permitted: nft refreshes "
		    "will fail");
		warned = 1;
	}
	rc = nft_add(nft, &set, el, (size_t)n, NFT_REFRESH);
	if (raised && priv_net_admin(0) == -1)
		log_warn("cannot lower CAP_NET_ADMIN");
	if (rc == -1)
		*why = nft_errstr(nft);
	free(el);
	return rc;
}

/* Open the capture, with CAP_NET_ADMIN effective if we have it. */
static struct capture *
open_capture(struct capture_conf *cc, char *err, size_t errlen)
{
	struct capture *c;
	unsigned int idx;
	int raised;

	if (cc->ifname != NULL) {
		if ((idx = if_nametoindex(cc->ifname)) != 0)
			cc->ifindex = idx;
		else
			log_warnx("-i %s: no such interface now; still "
			    "matching its old index %u", cc->ifname,
			    cc->ifindex);
	}
	raised = !capture_is_file(cc->dev) && priv_net_admin(1) == 0;
	c = capture_open(cc, err, errlen);
	if (raised && priv_net_admin(0) == -1)
		log_warn("cannot lower CAP_NET_ADMIN");
	return c;
}

/* A savefile: replay it into the database, then stop. */
static int
replay(struct capture *c, struct refresh *r)
{
	size_t left;
	int n;

	while ((n = capture_dispatch(c)) != CAPTURE_EOF) {
		if (n < 0) {
			log_warnx("%s", capture_errstr(c));
			break;
		}
		if (refresh_timeout(r) == 0)
			refresh_run(r, 0);
	}
	refresh_run(r, 1);
	if ((left = refresh_queued(r, NULL)) > 0) {
		log_warnx("%zu addresses could not be written", left);
		return 1;
	}
	return 0;
}

static int
live(struct capture *c, struct capture_conf *cc, struct refresh *r,
    const sigset_t *waitmask)
{
	char err[1024], tbuf[32];
	uint64_t reopen_at = 0, backoff = REOPEN_MIN_MS, now;
	struct pollfd pfd;
	struct timespec ts, *tsp;
	size_t left, nft;
	int64_t t, wait;
	int n;

	for (;;) {
		if (got_term)
			break;
		if (got_hup) {
			got_hup = 0;
			log_info("SIGHUP: reopening %s", cc->dev);
			capture_close(c);
			c = NULL;
			reopen_at = 0;
			backoff = REOPEN_MIN_MS;
		}
		now = clock_mono_ms();
		if (c == NULL && now >= reopen_at) {
			if ((c = open_capture(cc, err, sizeof(err))) != NULL) {
				log_info("capturing on %s again", cc->dev);
				backoff = REOPEN_MIN_MS;
			} else {
				log_warnx("cannot reopen the capture: %s; next "
				    "try in %s", err, util_fmt_time((int64_t)
				    backoff / 1000, tbuf, sizeof(tbuf)));
				reopen_at = now + backoff;
				if (backoff < REOPEN_MAX_MS)
					backoff *= 2;
			}
		}

		wait = refresh_timeout(r);
		if (c == NULL) {
			t = reopen_at > now ? (int64_t)(reopen_at - now) : 0;
			if (wait < 0 || t < wait)
				wait = t;
		}
		tsp = NULL;
		if (wait >= 0) {
			ts.tv_sec = wait / 1000;
			ts.tv_nsec = (wait % 1000) * 1000000;
			tsp = &ts;
		}
		pfd.fd = c != NULL ? capture_fd(c) : -1;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (ppoll(&pfd, 1, tsp, waitmask) == -1) {
			if (errno != EINTR)
				log_warn("ppoll");
			continue;
		}
		if (c != NULL && pfd.revents != 0) {
			n = (pfd.revents & POLLIN) ? capture_dispatch(c) : -1;
			if (n < 0) {
				log_warnx("capture on %s failed: %s; "
				    "reopening it", cc->dev,
				    (pfd.revents & POLLIN) ?
				    capture_errstr(c) :
				    "error on the capture descriptor");
				capture_close(c);
				c = NULL;
				reopen_at = clock_mono_ms() + backoff;
			} else
				capture_stats(c);
		}
		refresh_run(r, 0);
	}

	log_info("exiting: writing what is queued");
	refresh_run(r, 1);
	if ((left = refresh_queued(r, &nft)) > 0 || nft > 0)
		log_warnx("%zu database updates and %zu nft refreshes lost "
		    "at exit", left, nft);
	capture_close(c);
	return 0;
}

/* The command line: the options, and capture's part of them into cc. */
struct opts {
	const char	*dbpath, *log_dest, *pid_path;
	int64_t		 whiteexp;
	int		 debug;
	unsigned int	 group4, group6;	/* -g, as spamd's */
	const char	*sync[SYNC_TARGETS_MAX];	/* -Y, --sync-peer */
	int		 sync_ext[SYNC_TARGETS_MAX];
	int		 nsync;
	const char	*sync_key;
};

/* A -Y or --sync-peer target, kept for main(). */
static void
add_sync(struct opts *o, const char *spec, int ext)
{
	if (o->nsync == SYNC_TARGETS_MAX) {
		log_warnx("%s %s: more than %d sync targets", ext ?
		    "--sync-peer" : "-Y", spec, SYNC_TARGETS_MAX);
		usage();
	}
	o->sync[o->nsync] = spec;
	o->sync_ext[o->nsync++] = ext;
}

/* spamlogd -Y: a refresh tells the peers, as OpenBSD's spamlogd does. */
static void
sync_white(void *arg, const struct addr *a, int64_t expire)
{
	static struct syncmsg_entry e;

	memset(&e, 0, offsetof(struct syncmsg_entry, helo));
	e.kind = SYNCMSG_WHITE;
	e.ip = *a;
	e.timestamp = clock_now();
	e.expire = expire;
	e.helo[0] = e.from[0] = e.to[0] = '\0';
	sync_send(arg, &e);
}

/* The sync targets and key, as root (names resolved, key read). */
static struct sync *
open_sync(const struct opts *o)
{
	struct sync *s;
	char host[256], err[256];
	int i;

	if (o->nsync == 0)
		return NULL;
	if (gethostname(host, sizeof(host)) == -1)
		strlcpy(host, "?", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	if ((s = sync_new(SYNC_ROLE_SPAMLOGD, host)) == NULL)
		fatal("sync");
	for (i = 0; i < o->nsync; i++)
		if (sync_target(s, o->sync[i], o->sync_ext[i], err,
		    sizeof(err)) == -1)
			fatalx("%s %s: %s", o->sync_ext[i] ? "--sync-peer" :
			    "-Y", o->sync[i], err);
	if (sync_key(s, o->sync_key, err, sizeof(err)) == -1)
		fatalx("--sync-key %s", err);
	if (sync_open(s, err, sizeof(err)) == -1)
		fatalx("sync: %s", err);
	return s;
}

/* -g v4len:v6len, with spamd's bounds. */
static void
parse_group(const char *arg, struct opts *o)
{
	char buf[16], *colon;
	const char *e4 = NULL, *e6 = NULL;

	if (strlcpy(buf, arg, sizeof(buf)) >= sizeof(buf) ||
	    (colon = strchr(buf, ':')) == NULL) {
		log_warnx("-g %s: not v4len:v6len", arg);
		usage();
	}
	*colon++ = '\0';
	o->group4 = (unsigned int)strtonum(buf, 16, 32, &e4);
	o->group6 = (unsigned int)strtonum(colon, 32, 128, &e6);
	if (e4 != NULL || e6 != NULL) {
		log_warnx("-g %s: %s (16-32:32-128)", arg, e4 ? e4 : e6);
		usage();
	}
}

static void
parse_options(int argc, char *argv[], struct opts *o,
    struct capture_conf *cc)
{
	const char *errstr;
	int ch;

	while ((ch = getopt_long(argc, argv, "DIf:g:i:l:W:Y:", long_opts,
	    NULL)) != -1) {
		switch (ch) {
		case OPT_CONFIG_SOCKET:
			cfgsock = optarg;
			break;
		case 'D':
			o->debug = 1;
			break;
		case 'I':
			cc->inbound_only = 1;
			break;
		case 'f':
			o->dbpath = optarg;
			break;
		case 'g':
			parse_group(optarg, o);
			break;
		case 'Y':
			add_sync(o, optarg, 0);
			break;
		case OPT_SYNC_PEER:
			add_sync(o, optarg, 1);
			break;
		case OPT_SYNC_KEY:
			o->sync_key = optarg;
			break;
		case 'i':
			cc->ifname = optarg;
			break;
		case 'l':
			cc->dev = optarg;
			break;
		case 'W':
			if (refresh_whiteexp(optarg, &o->whiteexp,
			    &errstr) == -1) {
				log_warnx("-W %s: %s (hours 1-2160, or a "
				    "duration from 1h to 90d)", optarg,
				    errstr);
				usage();
			}
			break;
		case OPT_LOG:
			if (strcmp(optarg, "syslog") != 0 &&
			    strcmp(optarg, "stderr") != 0 && optarg[0] != '/') {
				log_warnx("--log %s: not syslog, stderr or an "
				    "absolute path", optarg);
				usage();
			}
			o->log_dest = optarg;
			break;
		case OPT_PIDFILE:
			if (optarg[0] != '/') {
				log_warnx("--pidfile %s: not an absolute path",
				    optarg);
				usage();
			}
			o->pid_path = optarg;
			break;
		default:
			usage();
		}
	}
	if (argc != optind)
		usage();
}

/* SIGTERM, SIGINT and SIGHUP are blocked but for the wait in waitmask. */
static void
catch_signals(sigset_t *waitmask)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1)
		fatal("sigaction");
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL) == -1)
		fatal("sigaction");
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &block, waitmask) == -1)
		fatal("sigprocmask");
	sigdelset(waitmask, SIGTERM);
	sigdelset(waitmask, SIGINT);
	sigdelset(waitmask, SIGHUP);
}

/*
 * The database must be writable by the user we are now; a held lock
 * only delays the updates. Fatal otherwise, after freeing what we hold.
 */
static void
check_db(const char *dbpath, struct capture *c, struct refresh *r,
    struct nft *nft)
{
	struct greydb *db;
	char err[1024];

	if ((db = greydb_open(dbpath, GREYDB_WRITE,
	    START_LOCK_WAIT_MS)) == NULL) {
		if (errno != EWOULDBLOCK) {
			/* Free what we hold: a sanitizer build exits clean. */
			snprintf(err, sizeof(err), "%s", greydb_errstr());
			capture_close(c);
			refresh_free(r);
			nft_close(nft);
			fatalx("%s", err);
		}
		log_warnx("%s; carrying on, updates will wait",
		    greydb_errstr());
	} else if (greydb_close(db) == -1)
		fatalx("%s", greydb_errstr());
}

int
main(int argc, char *argv[])
{
	struct opts o;
	struct capture_conf cc;
	struct refresh_conf rc;
	struct capture *c;
	struct refresh *r;
	struct nft *nft = NULL;
	sigset_t waitmask;
	char err[1024];
	int file, status;
	uid_t uid;
	gid_t gid;

	memset(&o, 0, sizeof(o));
	o.dbpath = PATH_SPAMD_DB;
	o.whiteexp = GREYLIST_WHITEEXP;
	o.sync_key = PATH_SPAMD_KEY;
	memset(&cc, 0, sizeof(cc));
	cc.dev = DEFAULT_DEV;
	log_init("spamlogd", 1, 0);
	parse_options(argc, argv, &o, &cc);
	log_init("spamlogd", 1, o.debug ? 2 : 0);
	file = capture_is_file(cc.dev);
	/* Opened before the privilege drop; a replay ignores --pidfile. */
	if (o.log_dest != NULL && log_open(o.log_dest) == -1)
		fatal("--log %s", o.log_dest);
	if (o.pid_path != NULL && !file && pidfile_open(o.pid_path) == -1)
		fatal("--pidfile %s", o.pid_path);

	if (cc.ifname != NULL &&
	    (cc.ifindex = if_nametoindex(cc.ifname)) == 0)
		fatalx("-i %s: no such interface", cc.ifname);
	if ((geteuid() == 0 || !file) &&
	    priv_lookup(SPAMD_USER, &uid, &gid) == -1)
		fatalx("cannot run as %s", SPAMD_USER);

	memset(&rc, 0, sizeof(rc));
	rc.dbpath = o.dbpath;
	rc.whiteexp = o.whiteexp;
	rc.group4 = o.group4;
	rc.group6 = o.group6;
	rc.lock_wait_ms = REFRESH_LOCK_WAIT_MS;
	rc.final_wait_ms = REFRESH_FINAL_WAIT_MS;
	rc.window_ms = REFRESH_WINDOW_MS;
	rc.batch_max = REFRESH_BATCH_MAX;
	rc.queue_max = REFRESH_QUEUE_MAX;
	if (!file && (rc.sync_arg = open_sync(&o)) != NULL)
		rc.sync_white = sync_white;
	if (!file) {
		if ((nft = nft_open("netlink")) == NULL)
			fatalx("nft: %s", nft_open_errstr());
		rc.push = push_white;
		rc.push_arg = nft;
	}
	r = cc.r = refresh_new(&rc);
	if ((c = capture_open(&cc, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if (geteuid() == 0 || !file)
		priv_drop(SPAMD_USER,
		    file ? PRIV_KEEP_NONE : PRIV_KEEP_NET_ADMIN);

	check_db(o.dbpath, c, r, nft);

	if (file) {
		status = replay(c, r);
		capture_close(c);
		refresh_free(r);
		return status;
	}

	catch_signals(&waitmask);

	/* -D logs to stderr, unless --log says where. */
	if (!o.debug || o.log_dest != NULL)
		log_init("spamlogd", 0, o.debug ? 2 : 0);
	if (!o.debug && daemon(0, 0) == -1)
		fatal("daemon");
	if (o.pid_path != NULL && pidfile_write(1) == -1)
		fatal("--pidfile %s", o.pid_path);
	log_info("listening on %s%s%s, database %s, whiteexp %s%s", cc.dev,
	    cc.ifname ? " for interface " : "", cc.ifname ? cc.ifname : "",
	    o.dbpath, util_fmt_time(o.whiteexp, err, sizeof(err)),
	    cc.inbound_only ? ", inbound only" : "");

	status = live(c, &cc, r, &waitmask);
	refresh_free(r);
	nft_close(nft);
	return status;
}
