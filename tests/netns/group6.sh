#!/bin/bash
# group6.sh: spamd -g 24:64 over IPv6 (see tests/netns/_group.sh).
# timeout: 150
. tests/netns/_group.sh 6
