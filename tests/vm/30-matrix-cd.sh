#!/usr/bin/env bash
# The NAT matrix of 30-matrix-ab.sh (see there) for placements c (server
# behind DNAT) and d (both sides behind NAT): vsftpd + curl, every mode,
# both families, both directions, both helpers.
exec "$(dirname "$0")/30-matrix-ab.sh" c d
