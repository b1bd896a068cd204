// SPDX-License-Identifier: BSL-1.0
// tcp_client at a terminal: a line editor (libedit's readline-compatible
// callback interface) that keeps the line being typed intact while lines
// arrive. Received lines and reports are printed above it, and the prompt
// with the partial input is drawn again below them; up-arrow recalls earlier
// lines. Built only with libedit and only on POSIX systems (line_editor.cpp);
// main.cpp uses it when stdin and stdout are both terminals, and the plain
// console everywhere else (a pipe, a file, Windows, a build without libedit).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "coronet/console.hpp"
#include "tcp_client/client.hpp"

namespace coronet {

// One per process: the terminal is one, and libedit's readline interface
// keeps its state in globals.
class line_editor {
 public:
  // Typed lines go to `input`, each with a "\n", as read_stdin() would send
  // them (and errc::line_too_long for one over input.max_line()).
  line_editor(console_input& input, std::string prompt);
  // Prints what is still queued, gives the terminal back as it was, and
  // joins the editor's thread.
  ~line_editor();
  line_editor(const line_editor&) = delete;
  line_editor& operator=(const line_editor&) = delete;

  // What the conversation sees of it (client.hpp): start() shows the prompt
  // and begins reading the terminal; show_above() queues a line for it.
  typed_line_editor hooks();

 private:
  struct shown_line {
    std::string text;
    bool diagnostic = false;  // stderr rather than stdout
  };

  void start();
  void show_above(std::string_view text, bool diagnostic);
  void edit_until_stopped();
  bool take_wakeup();
  void read_typed_key();
  void print_queued();
  void print_above_line(const shown_line& line) const;
  void take_typed_line(char* line);
  static void on_typed_line(char* line);

  console_input& input_;
  const std::string prompt_;
  int wake_read_ = -1;  // a byte in this pipe wakes the editor's thread
  int wake_write_ = -1;
  std::thread thread_;

  // Shared by the program's thread (show_above, the destructor) and the editor's.
  std::mutex mutex_;
  std::deque<shown_line> queue_;
  std::size_t queued_bytes_ = 0;
  std::size_t missed_lines_ = 0;  // dropped because the terminal did not keep up
  bool stopping_ = false;

  // The editor's thread alone.
  bool reading_ = false;     // the handler is installed: the terminal is in libedit's mode
  bool line_taken_ = false;  // a typed line (or the end of input) came in the last read
};

}  // namespace coronet
