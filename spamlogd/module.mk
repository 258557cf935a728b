# spamlogd/: the NFLOG watcher that refreshes WHITE entries. Every .c file
# but spamlogd.c goes into libspamlogd.a so unit tests can link any module.
spamlogd_MAIN := spamlogd/spamlogd.c
spamlogd_SRCS := $(filter-out $(spamlogd_MAIN),$(sort $(wildcard spamlogd/*.c)))
spamlogd_LIBS := spamd nft common
ifneq ($(wildcard $(spamlogd_MAIN)),)
PROGS += spamlogd
else
LIBDIRS += spamlogd
endif
