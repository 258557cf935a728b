build/obj/common/compat.o: common/compat.c common/compat.h
common/compat.h:
