#!/usr/bin/env bash
# The NAT matrix of 30-matrix-ab.sh (see there), other clients and servers
# on the NAT-heavy placements: c (server behind DNAT) with vsftpd + lftp and
# Python ftplib, then proftpd; d (both sides behind NAT) the same with
# pure-ftpd; both helpers.
exec "$(dirname "$0")/30-matrix-ab.sh" c+proftpd d+pureftpd
