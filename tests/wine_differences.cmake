# SPDX-License-Identifier: BSL-1.0
# Read by CTest (a TEST_INCLUDE_FILES of the MinGW build) after the Catch2
# tests are discovered. Under Wine these tests do not run: each needs what
# Windows does and Wine 8 does not. CTest lists them as "Not Run (Disabled)".

# A close with a zero linger: Windows resets the connection, Wine closes it
# with a FIN, so the peer reads an end of file instead of a reset.
set_tests_properties(
  "tcp_server: chat: a client that resets in the middle of a line leaves nothing behind"
  "tcp_client: a connection reset ends the client with exit 1 and the reason"
  PROPERTIES DISABLED TRUE)

# A socket closed with a write pending (the server dropping a client that
# does not read): Windows completes the write with WSA_OPERATION_ABORTED, Wine
# never completes it (unless it is cancelled first, CancelIoEx), so the
# client's writer waits forever and the room holds its senders back for good.
set_tests_properties(
  "tcp_server: room drops a client that stops reading while the others get every line"
  "tcp_server: room holds a fast sender back: a reader gets a whole burst, a sleeper is dropped"
  "tcp_server: room: a queue one byte over room_queue for stall_timeout drops that client only"
  PROPERTIES DISABLED TRUE)

# A datagram to a port where nobody listens: Windows, like Linux, reports the
# ICMP "port unreachable" to the receive that waits for the echo; Wine only to
# the next send, after the whole timeout (tests/e2e/udp_pair.py allows for it).
set_tests_properties(
  "udp: udp_client says at once that nobody listens, and exits 1"
  PROPERTIES DISABLED TRUE)
