# common/: libcommon.a, code shared by two or more programs.
LIBDIRS += common
common_SRCS := common/addr.c common/blquery.c common/cfg.c common/clock.c common/compat.c common/crc.c common/fmt.c common/gdata.c \
	common/greydb.c common/greylist.c common/journal.c common/greyscan.c common/log.c common/pidfile.c common/priv.c common/statedir.c common/util.c
