# each bad record is reported, the rest is listed, and the status is 1
sort -f @DB@
# a lookup of one counts it as missing
-f @DB@ 192.0.2.20 192.0.2.10
# -d removes one; -a replaces one with a fresh record
-f @DB@ -d 192.0.2.20 198.51.100.1 'not an address' 'empty value'
-f @DB@ -a 192.0.2.21
rel -f @DB@ 192.0.2.21
-f @DB@ -d 192.0.2.22 192.0.2.23 $'192.0.2.24\nh\n<a@example.org>\n<b@example.net>'
rel -f @DB@
