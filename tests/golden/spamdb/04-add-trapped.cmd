# new: TRAPPED for 24 hours
-f @DB@ -t -a 198.51.100.1 2001:db8::bad
rel -f @DB@ 198.51.100.1 2001:db8::bad
# a WHITE address becomes TRAPPED; an existing trap is renewed
-f @DB@ -t -a 192.0.2.10 198.51.100.66
rel -f @DB@
# last of -G/-T/-t and last of -a/-d win
-f @DB@ -T -t -d -a 198.51.100.2
rel -f @DB@ 198.51.100.2
-f @DB@ -t -a not-an-address
