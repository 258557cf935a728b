# spamd-setup/: the blacklist loader. Every .c file but spamd-setup.c goes
# into libspamd-setup.a so unit tests can link any module. The config-line
# codec is common/cfg.c, shared with spamd so both sides agree on the
# format; spamd-setup links no daemon code.
PROGS += spamd-setup
spamd-setup_MAIN := spamd-setup/spamd-setup.c
spamd-setup_SRCS := $(filter-out $(spamd-setup_MAIN),$(sort $(wildcard spamd-setup/*.c)))
spamd-setup_LIBS := nft common
