/*
 * smtpchat.c: a scripted SMTP client for scenario tests.
 *
 * usage: smtpchat [-s srcaddr] host port [script]
 *
 * Reads the script (or stdin), one command per line; '#' starts a comment
 * line. Text arguments understand the escapes \r \n \t \0 \\ \xHH.
 *
 *	send TEXT		send TEXT followed by CR LF
 *	raw TEXT		send TEXT as is
 *	repeat N send|raw TEXT	send it N times in one write
 *	expect CODE [TEXT]	read one reply (all its CODE- lines and the
 *				CODE line); fail unless the code matches and,
 *				if TEXT is given, the whole reply (lines joined
 *				by \n, CR LF removed) equals TEXT
 *	expectn N CODE		read N replies, each with that code
 *	match REGEX		read one reply; fail unless it matches the POSIX
 *				extended REGEX (lines joined by \n)
 *	expect-close		fail unless the server closes the connection
 *	mark			remember the current time
 *	elapsed MIN MAX		fail unless MIN <= seconds since mark <= MAX
 *	timeout SECS		how long a read may wait (default 10)
 *	sleep SECS
 *	shutdown		close our sending side
 *	reset			close with an RST (SO_LINGER 0) and stop
 *
 * Exits 0 when the script ran to its end, 1 on the first failure (with
 * the script line, what was expected and what arrived), 2 on usage
 * errors. A test tool: small, strict, and bounded by its timeouts.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <netdb.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REPLY_MAX	(64 * 1024)

static int	 fd = -1;
static double	 read_timeout = 10.0;
static char	 inbuf[REPLY_MAX];
static size_t	 inlen;
static unsigned	 lineno;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void __attribute__((format(printf, 1, 2), noreturn))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "smtpchat: script line %u: ", lineno);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Decode escapes in place; returns the decoded length. */
static size_t
unescape(char *s)
{
	char *o = s, *p = s;

	while (*p != '\0') {
		if (*p != '\\' || p[1] == '\0') {
			*o++ = *p++;
			continue;
		}
		p++;
		switch (*p) {
		case 'r': *o++ = '\r'; p++; break;
		case 'n': *o++ = '\n'; p++; break;
		case 't': *o++ = '\t'; p++; break;
		case '0': *o++ = '\0'; p++; break;
		case '\\': *o++ = '\\'; p++; break;
		case 'x':
			if (isxdigit((unsigned char)p[1]) &&
			    isxdigit((unsigned char)p[2])) {
				char h[3] = { p[1], p[2], '\0' };

				*o++ = (char)strtol(h, NULL, 16);
				p += 3;
				break;
			}
			/* FALLTHROUGH */
		default:
			*o++ = '\\';
			*o++ = *p++;
		}
	}
	*o = '\0';
	return (size_t)(o - s);
}

static void
send_all(const char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(fd, buf + off, len - off, MSG_NOSIGNAL);

		if (n == -1) {
			if (errno == EINTR)
				continue;
			die("send: %s", strerror(errno));
		}
		off += (size_t)n;
	}
}

/* Read more bytes; 0 on EOF. Fails on timeout. */
static size_t
fill(void)
{
	struct pollfd p = { fd, POLLIN, 0 };
	int r;
	ssize_t n;

	if (inlen == sizeof(inbuf))
		die("reply longer than %zu bytes", sizeof(inbuf));
	r = poll(&p, 1, (int)(read_timeout * 1000));
	if (r == -1)
		die("poll: %s", strerror(errno));
	if (r == 0)
		die("timed out after %.1f s waiting for the server; have "
		    "\"%.*s\"", read_timeout, (int)inlen, inbuf);
	n = recv(fd, inbuf + inlen, sizeof(inbuf) - inlen, 0);
	if (n == -1) {
		if (errno == ECONNRESET)
			return 0;
		die("recv: %s", strerror(errno));
	}
	inlen += (size_t)n;
	return (size_t)n;
}

/* One CR LF line out of the buffer, without its CR LF. */
static int
getline_crlf(char *out, size_t outsz)
{
	char *lf;
	size_t len;

	while ((lf = memchr(inbuf, '\n', inlen)) == NULL)
		if (fill() == 0)
			return -1;
	len = (size_t)(lf - inbuf);
	if (len == 0 || inbuf[len - 1] != '\r')
		die("reply line without CR LF: \"%.*s\"", (int)len, inbuf);
	if (len - 1 >= outsz)
		die("reply line too long");
	memcpy(out, inbuf, len - 1);
	out[len - 1] = '\0';
	memmove(inbuf, lf + 1, inlen - len - 1);
	inlen -= len + 1;
	return 0;
}

/* A whole (possibly multi-line) reply, lines joined with \n. */
static void
read_reply(char *out, size_t outsz)
{
	char line[4096];
	size_t o = 0;

	out[0] = '\0';
	for (;;) {
		if (getline_crlf(line, sizeof(line)) == -1)
			die("connection closed; expected a reply (have \"%s\")",
			    out);
		if (strlen(line) < 3 || !isdigit((unsigned char)line[0]) ||
		    !isdigit((unsigned char)line[1]) ||
		    !isdigit((unsigned char)line[2]) ||
		    (line[3] != ' ' && line[3] != '-' && line[3] != '\0'))
			die("malformed reply line \"%s\"", line);
		o += (size_t)snprintf(out + o, outsz - o, "%s%s",
		    o ? "\n" : "", line);
		if (o >= outsz)
			die("reply too long");
		if (line[3] != '-')
			return;
	}
}

static void
connect_to(const char *host, const char *port, const char *src)
{
	struct addrinfo hints, *res;
	int e;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((e = getaddrinfo(host, port, &hints, &res)) != 0) {
		fprintf(stderr, "smtpchat: %s %s: %s\n", host, port,
		    gai_strerror(e));
		exit(2);
	}
	if ((fd = socket(res->ai_family, SOCK_STREAM, 0)) == -1) {
		perror("smtpchat: socket");
		exit(1);
	}
	if (src != NULL) {
		struct addrinfo *sres;

		if (getaddrinfo(src, "0", &hints, &sres) != 0 ||
		    bind(fd, sres->ai_addr, sres->ai_addrlen) == -1) {
			perror("smtpchat: bind source");
			exit(1);
		}
		freeaddrinfo(sres);
	}
	if (connect(fd, res->ai_addr, res->ai_addrlen) == -1) {
		fprintf(stderr, "smtpchat: connect %s %s: %s\n", host, port,
		    strerror(errno));
		exit(1);
	}
	freeaddrinfo(res);
}

int
main(int argc, char *argv[])
{
	FILE *fp = stdin;
	char *line = NULL, *cmd, *arg, reply[REPLY_MAX];
	const char *src = NULL;
	size_t sz = 0;
	double mark = now();
	int ch;

	while ((ch = getopt(argc, argv, "s:")) != -1) {
		if (ch == 's')
			src = optarg;
		else {
			fprintf(stderr, "usage: smtpchat [-s srcaddr] host "
			    "port [script]\n");
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: smtpchat [-s srcaddr] host port "
		    "[script]\n");
		return 2;
	}
	if (argc == 3 && (fp = fopen(argv[2], "r")) == NULL) {
		perror(argv[2]);
		return 2;
	}
	connect_to(argv[0], argv[1], src);
	while (getline(&line, &sz, fp) != -1) {
		lineno++;
		line[strcspn(line, "\n")] = '\0';
		cmd = line + strspn(line, " \t");
		if (*cmd == '#' || *cmd == '\0')
			continue;
		arg = cmd + strcspn(cmd, " \t");
		if (*arg != '\0')
			*arg++ = '\0';

		if (strcmp(cmd, "send") == 0 || strcmp(cmd, "raw") == 0) {
			size_t n = unescape(arg);

			send_all(arg, n);
			if (cmd[0] == 's')
				send_all("\r\n", 2);
		} else if (strcmp(cmd, "repeat") == 0) {
			char *what, *text, *buf;
			long count = strtol(arg, &what, 10);
			size_t n, unit, i;
			int crlf;

			if (count <= 0 || count > 1000000)
				die("repeat: bad count");
			what += strspn(what, " \t");
			text = what + strcspn(what, " \t");
			if (*text != '\0')
				*text++ = '\0';
			n = unescape(text);
			if (strcmp(what, "send") == 0)
				crlf = 1;
			else if (strcmp(what, "raw") == 0)
				crlf = 0;
			else
				die("repeat: send or raw");
			unit = n + (crlf ? 2 : 0);
			if ((buf = malloc(unit * (size_t)count)) == NULL)
				die("out of memory");
			for (i = 0; i < (size_t)count; i++) {
				memcpy(buf + i * unit, text, n);
				if (crlf)
					memcpy(buf + i * unit + n, "\r\n", 2);
			}
			send_all(buf, unit * (size_t)count);
			free(buf);
		} else if (strcmp(cmd, "expect") == 0) {
			char *text = arg + strcspn(arg, " \t");

			if (*text != '\0') {
				*text++ = '\0';
				unescape(text);
			} else
				text = NULL;
			read_reply(reply, sizeof(reply));
			if (strncmp(reply, arg, strlen(arg)) != 0 ||
			    (text != NULL && strcmp(reply, text) != 0))
				die("expected \"%s%s%s\", got \"%s\"", arg,
				    text ? " ... " : "", text ? text : "",
				    reply);
		} else if (strcmp(cmd, "expectn") == 0) {
			char *code;
			long count = strtol(arg, &code, 10);

			code += strspn(code, " \t");
			if (count <= 0 || *code == '\0')
				die("expectn N CODE");
			while (count-- > 0) {
				read_reply(reply, sizeof(reply));
				if (strncmp(reply, code, strlen(code)) != 0)
					die("expected \"%s\", got \"%s\" with %ld "
					    "to go", code, reply, count);
			}
		} else if (strcmp(cmd, "match") == 0) {
			regex_t re;

			if (regcomp(&re, arg, REG_EXTENDED | REG_NOSUB) != 0)
				die("bad regex");
			read_reply(reply, sizeof(reply));
			if (regexec(&re, reply, 0, NULL, 0) != 0)
				die("\"%s\" does not match /%s/", reply, arg);
			regfree(&re);
		} else if (strcmp(cmd, "expect-close") == 0) {
			while (inlen == 0 || memchr(inbuf, '\n', inlen) == NULL) {
				if (fill() == 0)
					break;
			}
			if (inlen != 0)
				die("expected the connection to close, got "
				    "\"%.*s\"", (int)inlen, inbuf);
		} else if (strcmp(cmd, "mark") == 0) {
			mark = now();
		} else if (strcmp(cmd, "elapsed") == 0) {
			double lo, hi, e = now() - mark;

			if (sscanf(arg, "%lf %lf", &lo, &hi) != 2)
				die("elapsed MIN MAX");
			if (e < lo || e > hi)
				die("%.2f s elapsed, expected %.2f to %.2f", e,
				    lo, hi);
		} else if (strcmp(cmd, "timeout") == 0) {
			read_timeout = atof(arg);
		} else if (strcmp(cmd, "sleep") == 0) {
			struct timespec ts;
			double s = atof(arg);

			ts.tv_sec = (time_t)s;
			ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
			nanosleep(&ts, NULL);
		} else if (strcmp(cmd, "shutdown") == 0) {
			if (shutdown(fd, SHUT_WR) == -1)
				die("shutdown: %s", strerror(errno));
		} else if (strcmp(cmd, "reset") == 0) {
			struct linger l = { 1, 0 };

			setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
			close(fd);
			free(line);
			return 0;
		} else
			die("unknown command \"%s\"", cmd);
	}
	free(line);
	close(fd);
	return 0;
}
