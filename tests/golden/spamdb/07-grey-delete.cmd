# every tuple of the address goes (OpenBSD: only the first one met),
# legacy ones included; the WHITE record of the address stays, and so
# does 192.0.2.10, which only starts like it
-f @DB@ -G -d 192.0.2.1
sort -f @DB@
# IPv6 in any form; several addresses at once
-f @DB@ -G -d 2001:DB8:0::25 192.0.2.2
sort -f @DB@
# no tuple left for it; not an address at all
-f @DB@ -G -d 192.0.2.1 bogus 192.0.2.10
sort -f @DB@
