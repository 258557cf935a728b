#!/bin/bash
# policy_postfix6.sh: policy mode with real MTAs over IPv6: a real Postfix
# sender, a real Postfix MX asking spamd -P --policy-only over a unix
# socket, no packet filter at all. Deferred at RCPT first, delivered with
# one X-Greylist header after passtime (pl_e2e_policy in tests/pipeline.sh).
# timeout: 120
. tests/lib.sh
. tests/pipeline.sh
t_tmp
pl_e2e_policy 6 unix
pass "a real message greylisted by policy mode and delivered over IPv6"
