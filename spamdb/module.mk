# spamdb/: the database tool. One source file; it links libcommon.a only.
PROGS += spamdb
spamdb_MAIN := spamdb/spamdb.c
spamdb_SRCS := $(filter-out $(spamdb_MAIN),$(sort $(wildcard spamdb/*.c)))
spamdb_LIBS := common
