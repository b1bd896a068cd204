// SPDX-License-Identifier: BSL-1.0
// tcp_client: what the two directions of a conversation share
// (conversation.cpp), and how it shows on the user's side (display.cpp): on
// a terminal a prompt and labelled lines, in a pipe the exact bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "coronet/console.hpp"
#include "coronet/protocol.hpp"
#include "tcp_client/client.hpp"

namespace coronet {

// What the two directions of one conversation share. It lives in converse(),
// which outlives both coroutines.
struct conversation {
  tcp::socket socket;
  console con;
  typed_line_editor editor;  // when set, it draws the prompt, and prints the lines and reports
  bool prompting = false;    // the prompt is the last thing on the terminal
  bool quitting = false;     // the operator typed q: the server's closing is expected
  bool input_ended = false;
  bool server_closed = false;    // the server closed its side; what ends the conversation
  std::uint64_t bytes_sent = 0;  // of the input, taken by the kernel
  std::size_t unsent = 0;        // bytes taken from the input and not yet written
};

// Shows the send_prompt on a terminal without a line editor (the editor draws its own).
void show_prompt(conversation& talk);

// Ends the prompt's line, so that a diagnostic on the same terminal starts on its own.
void leave_prompt(conversation& talk);

// A diagnostic: above the line being typed, or on stderr.
void report(conversation& talk, std::string_view what);

// The conversation was cancelled (Ctrl-C or SIGTERM): ends the prompt's line. The exit code.
int stopped(conversation& talk);

// A received line: shown on a terminal, or its exact bytes added to `pass_through`.
void show_received(conversation& talk, const line_splitter::line& line, std::string& pass_through);

// Writes what show_received() collected for a pipe, and empties it.
void write_through(conversation& talk, std::string& pass_through);

}  // namespace coronet
