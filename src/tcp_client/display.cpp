// SPDX-License-Identifier: BSL-1.0
// tcp_client: how the conversation shows on the user's side. On a terminal
// the client prompts, labels what it receives and keeps the prompt below it
// (or lets the line editor draw both); in a pipe stdout gets exactly the
// bytes of the lines received. Nothing here suspends: these are plain
// functions that conversation.cpp calls between its waits.
#include "tcp_client/conversation.hpp"

#include <ios>
#include <ostream>
#include <string>
#include <string_view>

#include "coronet/console.hpp"
#include "coronet/protocol.hpp"

namespace coronet {

void show_prompt(conversation& talk) {
  if (!talk.con.interactive || talk.editor) return;
  talk.con.out << send_prompt << std::flush;
  talk.prompting = true;
}

// Ends the prompt's line, so that a diagnostic on the same terminal starts on its own.
void leave_prompt(conversation& talk) {
  if (!talk.prompting) return;
  talk.con.out << '\n' << std::flush;
  talk.prompting = false;
}

void report(conversation& talk, std::string_view what) {
  if (talk.editor) {
    talk.editor.show_above(what, true);
    return;
  }
  leave_prompt(talk);
  write_line(talk.con.err, what);
}

// The conversation was cancelled: Ctrl-C (or SIGTERM) stopped the client,
// which is no failure of the connection, and there is nothing to say (the
// exit code, 128 + the signal, says it). The prompt's line is ended, so
// that the shell's prompt starts on its own. The exit code is the signal's,
// set by stop_signals; this one is not used.
int stopped(conversation& talk) {
  leave_prompt(talk);
  talk.con.out.flush();
  return 1;
}

// A received line: on a terminal it takes the send_prompt's place ('\r', padded to
// cover it) and the send_prompt comes back below it; in a pipe its exact bytes are
// collected for one write per read.
void show_received(conversation& talk, const line_splitter::line& line, std::string& pass_through) {
  if (!talk.con.interactive) {
    pass_through += line.raw;
    return;
  }
  if (talk.editor) {
    talk.editor.show_above("RECEIVED: " + terminal_safe(line.text), false);
    return;
  }
  std::string shown = "\rRECEIVED: " + terminal_safe(line.text);
  if (shown.size() < send_prompt.size() + 1) shown.resize(send_prompt.size() + 1, ' ');
  talk.con.out << shown << '\n';
  if (talk.prompting) talk.con.out << send_prompt;
}

void write_through(conversation& talk, std::string& pass_through) {
  talk.con.out.write(pass_through.data(), static_cast<std::streamsize>(pass_through.size()));
  talk.con.out.flush();
  pass_through.clear();
}

}  // namespace coronet
