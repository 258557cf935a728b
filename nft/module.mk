# nft/: libnft.a, nftables set elements over libnftnl + libmnl (see nft.h).
# spamd.nft and spamd-blacklist-only.nft are the rulesets, loaded with nft -f.
LIBDIRS += nft
nft_SRCS := $(sort $(wildcard nft/*.c))
