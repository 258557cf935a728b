# -d deletes the key, whatever its kind; the tuple of 192.0.2.10 stays
-f @DB@ -d 192.0.2.10
sort -f @DB@
# missing keys fail one by one; empty ones are ignored
-f @DB@ -d 192.0.2.99 '' 192.0.2.11 192.0.2.10
# -t -d and -T -d; spamtraps match in any case, addresses in any form
-f @DB@ -t -d 198.51.100.66
-f @DB@ -T -d TRAP@example.NET
-f @DB@ -d 2001:DB8:0::10
sort -f @DB@
# -d also removes a spamtrap (the key decides, as in OpenBSD)
-f @DB@ -d spare@example.net
sort -f @DB@
