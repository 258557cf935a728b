/*
 * nft_int.h: what the files of libnft share and callers never see.
 *
 * nft.c drives every change the same way whatever the backend: it turns
 * the caller's elements into keys (nft_interval.c for CIDRs), builds one
 * netlink batch (nft_batch.c), hands it to the backend's send(), and
 * reads the kernel's verdict from the replies (per-element errors are
 * dropped and the rest re-sent). A backend is a struct of function
 * pointers chosen by name in nft_open():
 *
 *	nft_backend_netlink	nft_netlink.c: the kernel, over libmnl
 *	nft_backend_record	tests/nftlib/nft_record.c: decodes the batch
 *				back with libnftnl, writes it as text, keeps a
 *				model; a test backend, added with
 *				nft_backend_register() and never linked into
 *				the programs
 *
 * Both see exactly the same bytes: the record backend is how the batch
 * builder is tested without CAP_NET_ADMIN.
 */
#ifndef NFT_INT_H
#define NFT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nft/nft.h"

#define NFT_ERRSTR_LEN		512
#define NFT_NO_INPUT		UINT32_MAX	/* key not from the caller */

/* Per caller element state while a change is being committed. */
#define NFT_ST_OK		0
#define NFT_ST_REJECT		1	/* dropped: invalid or refused */
#define NFT_ST_ISOLATE		2	/* send in a message of its own */

/* Operations a batch is made of. */
enum nft_op {
	NFT_OP_ADD,		/* NEWSETELEM, NLM_F_CREATE, no timeouts */
	NFT_OP_ADD_TIMEOUT,	/* NEWSETELEM with the caller's timeouts */
	NFT_OP_DEL,		/* DELSETELEM */
	NFT_OP_FLUSH		/* DELSETELEM without an element list */
};

/*
 * One set element as sent: a key, the interval-end flag, and where it
 * came from (index into the caller's array, or NFT_NO_INPUT for nft's
 * 0.0.0.0 end sentinel).
 */
struct nft_key {
	uint8_t		 key[16];
	uint8_t		 end;		/* NFT_SET_ELEM_INTERVAL_END */
	uint32_t	 in;		/* caller's element index */
	uint64_t	 timeout_ms;
	uint64_t	 expires_ms;
};

/* One netlink message of a batch. */
struct nft_batch_msg {
	uint32_t	 seq;
	size_t		 off;		/* into nft_batch.buf */
	uint16_t	 type;		/* NFT_MSG_*, or NFNL_MSG_BATCH_* */
	size_t		 first;		/* index into nft_batch.map */
	size_t		 count;		/* element nests in this message */
};

/*
 * A batch: contiguous netlink messages (begin, data..., end), a table of
 * the messages, and map[], the caller's index of every element nest in
 * batch order, so a kernel error at (seq, attribute offset) leads back to
 * the caller's element.
 */
struct nft_batch {
	const struct nft_set	*set;
	char			*buf;
	size_t			 len, cap;
	struct nft_batch_msg	*msg;
	size_t			 nmsg, msgcap;
	uint32_t		*map;
	size_t			 nmap, mapcap;
	uint32_t		 seq_begin, seq_end, seq_last;	/* last data msg */
	size_t			 ndata;				/* data messages */
};

/* A non-zero NLMSG_ERROR for one message of a batch. */
struct nft_reply {
	uint32_t	 seq;
	int		 error;		/* positive errno */
	uint32_t	 offset;	/* NLMSGERR_ATTR_OFFS, 0 if none */
	char		 msg[80];	/* NLMSGERR_ATTR_MSG, may be empty */
};

struct nft_replies {
	struct nft_reply	*r;
	size_t			 n, cap;
};

/* An element as dumped: one endpoint of an interval, or a plain key. */
struct nft_raw {
	struct addr	 a;
	uint8_t		 end;
	uint64_t	 timeout_ms;
	uint64_t	 expires_ms;
};

struct nft;

struct nft_backend {
	const char	*name;
	int	(*open)(struct nft *, const char *);
	/* 1 if a batch of len bytes can go in one sendmsg, else 0 */
	int	(*fit)(struct nft *, size_t);
	/* 0: sent, errors in replies; -1: not sent or state unknown */
	int	(*send)(struct nft *, const struct nft_batch *,
		    struct nft_replies *);
	int	(*list)(struct nft *, const struct nft_set *,
		    struct nft_raw **, size_t *);
	/* 1 the set holds an element, 0 empty, -1 error; may be NULL */
	int	(*any)(struct nft *, const struct nft_set *);
	void	(*close)(struct nft *);
};

struct nft {
	const struct nft_backend *be;
	void		*priv;		/* backend state */
	uint32_t	 seq;
	size_t		 sndbuf_cap;	/* ",sndbuf=N": cap on one batch, 0 none */
	int		 err;
	char		 errstr[NFT_ERRSTR_LEN];
};

extern const struct nft_backend nft_backend_netlink;

/* nft.c */
/* add a backend for nft_open() to find by name; 0, or -1 when full */
int	nft_backend_register(const struct nft_backend *);
void	nft_seterr(struct nft *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
const char *nft_family_name(uint8_t);

/* nft_batch.c */
void	nft_batch_init(struct nft_batch *, const struct nft_set *);
void	nft_batch_free(struct nft_batch *);
int	nft_batch_begin(struct nft_batch *, uint32_t *);
int	nft_batch_op(struct nft_batch *, uint32_t *, enum nft_op,
	    const struct nft_key *, size_t, const uint8_t *);
int	nft_batch_end(struct nft_batch *, uint32_t *);
const struct nft_batch_msg *nft_batch_find(const struct nft_batch *,
	    uint32_t);
int	nft_batch_locate(const struct nft_batch *,
	    const struct nft_batch_msg *, uint32_t, size_t *);
int	nft_batch_nest_offset(const struct nft_batch *,
	    const struct nft_batch_msg *, size_t, uint32_t *);
int	nft_batch_reply_add(struct nft_replies *, uint32_t, int, uint32_t,
	    const char *);

/* nft_signature.c: netlink attribute helpers, also used by tests/nftlib */
struct nlattr;
int	nft_signature_attr_cb(const struct nlattr *, void *);
int	nft_signature_str_eq(const struct nlattr *, const char *);

/* nft_interval.c */
int	nft_interval_keys(const struct nft_set *, const struct nft_elem *,
	    uint32_t, struct nft_key *);
int	nft_interval_to_cidrs(const struct nft_set *, struct nft_raw *,
	    size_t, struct nft_elem **, size_t *);
int	nft_interval_range_cidrs(const struct addr *, const struct addr *,
	    const struct nft_raw *, struct nft_elem **, size_t *, size_t *);

#endif /* NFT_INT_H */
