build/obj/common/greylist.o: common/greylist.c common/greylist.h \
 common/gdata.h common/addr.h
common/greylist.h:
common/gdata.h:
common/addr.h:
