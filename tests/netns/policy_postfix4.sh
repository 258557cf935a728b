#!/bin/bash
# policy_postfix4.sh: policy mode with real MTAs over IPv4: a real Postfix
# sender, a real Postfix MX asking spamd -P --policy-only over a inet
# socket, no packet filter at all. Deferred at RCPT first, delivered with
# one X-Greylist header after passtime (pl_e2e_policy in tests/pipeline.sh).
# timeout: 120
. tests/lib.sh
. tests/pipeline.sh
t_tmp
pl_e2e_policy 4 inet
pass "a real message greylisted by policy mode and delivered over IPv4"
