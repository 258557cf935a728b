# the whole database; GDBM lists in hash order, so sort
sort -f @DB@
# -f may come anywhere among the options
sort -a -d -f @DB@ 192.0.2.10
sort -f @DB@
