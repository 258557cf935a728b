build/obj/common/gdata.o: common/gdata.c common/addr.h common/gdata.h
common/addr.h:
common/gdata.h:
