# spamd/: the fake SMTP daemon. Every .c file but spamd.c goes into
# libspamd.a so unit tests can link any module.
spamd_MAIN := spamd/spamd.c
spamd_SRCS := $(filter-out $(spamd_MAIN),$(sort $(wildcard spamd/*.c)))
spamd_LIBS := nft common
ifneq ($(wildcard $(spamd_MAIN)),)
PROGS += spamd
else
LIBDIRS += spamd
endif
