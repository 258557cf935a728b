# spamd-setup/: the blacklist loader. Every .c file but spamd-setup.c goes
# into libspamd-setup.a so unit tests can link any module. It borrows the
# config-line encoder from spamd (spamd/cfg.c) so both sides agree on the
# format.
PROGS += spamd-setup
spamd-setup_MAIN := spamd-setup/spamd-setup.c
spamd-setup_SRCS := $(filter-out $(spamd-setup_MAIN),$(sort $(wildcard spamd-setup/*.c)))
spamd-setup_LIBS := spamd nft common
