# spamd-nftsync/: the cron job that expires, promotes and reconciles.
spamd-nftsync_MAIN := spamd-nftsync/spamd-nftsync.c
spamd-nftsync_SRCS := spamd-nftsync/pushed.c spamd-nftsync/scanfeed.c \
    spamd-nftsync/sender.c
spamd-nftsync_LIBS := nft common
PROGS += spamd-nftsync
