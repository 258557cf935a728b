#!/bin/bash
# group4.sh: spamd -g 24:64 over IPv4 (see tests/netns/_group.sh).
# timeout: 150
. tests/netns/_group.sh 4
