// SPDX-License-Identifier: BSL-1.0
// The operator's console, shared by the programs that read typed lines
// (tcp_server in chat mode, tcp_client, udp_client).
//
// Lines typed at stdin are read on a background thread and handed to the
// coroutines through a concurrent channel: a coroutine cannot wait on stdin
// portably (a regular file is always "ready", and Windows consoles and pipes
// have no overlapped I/O). The thread never keeps the process alive.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <tuple>

#include "coronet/awaitable.hpp"
#include "coronet/protocol.hpp"

namespace coronet {

// A queue of typed lines. A program receives from it; the stdin thread (or a
// test) pushes into it. The last item carries asio::error::eof.
//
// Each line comes exactly as it was read, line ending included ("\n", "\r\n",
// or none for a last line that had none): strip_line_ending() gives its text,
// and a client can forward piped input byte for byte.
class console_input {
 public:
  // `capacity`: lines read ahead of the program before the stdin thread waits.
  explicit console_input(asio::any_io_executor executor, std::size_t max_line = default_max_line,
                         std::size_t capacity = 256);
  ~console_input();  // the stdin thread, if any, stops delivering and lets go
  console_input(const console_input&) = delete;
  console_input& operator=(const console_input&) = delete;

  // Starts the background thread that reads this process's stdin.
  void read_stdin();
  // Whether read_stdin() reads a terminal (lines typed by a person) rather
  // than a pipe or a file.
  [[nodiscard]] bool reads_terminal() const noexcept;

  // Suspends until the next line (with its ending) or the end of input
  // (asio::error::eof), or errc::line_too_long for a typed line over the limit
  // (which is dropped; reading goes on). Cancellable: a cancelled wait loses no line.
  asio::awaitable<std::tuple<error_code, std::string>> receive();

  // The next item if one is already waiting, without suspending: lets a
  // program gather a paste or a file's lines into one write.
  std::optional<std::tuple<error_code, std::string>> try_receive();

  // What a test types: a line (Enter adds its LF), or the end of input.
  // Never blocks.
  void push(std::string_view text);
  void push_end();

  // For a reader of the program's own in place of read_stdin()
  // (tcp_client's line editor, which reads the terminal itself): from now on
  // reads_terminal() says `terminal`; deliver() hands over one item as the
  // stdin thread would, waiting while the queue is full, and is false once
  // the program's side has gone or stop_delivery() was called, which lets a
  // waiting reader go (call it once the program receives no more).
  void set_reads_terminal(bool terminal) noexcept;
  bool deliver(error_code ec, const std::string& line);
  void stop_delivery();

  [[nodiscard]] std::size_t max_line() const noexcept;

 private:
  struct shared_state;
  static void read_stdin_lines(const std::shared_ptr<shared_state>& state);
  std::shared_ptr<shared_state> state_;
};

// How a program writes: data to `out`, diagnostics to `err`. When `interactive`
// (stdout is a terminal) the clients add prompts and labels; otherwise `out`
// carries exactly the bytes received, so the programs compose in pipes.
struct console {
  console_input& input;
  std::ostream& out;
  std::ostream& err;
  bool interactive = false;
};

// An output stream for a console that may stop reading: a terminal paused
// with Ctrl-S, a pipe nobody drains. Each flush hands what was written to a
// background thread, which does the blocking write to `fd` (1 or 2), so the
// program's io_context never waits for the console. At most `limit` bytes
// wait (or one flush, if it is larger); past that, whole flushes are dropped
// and counted, and as soon as the console has taken what waits (or at the
// end, at the latest) it is told how many lines it missed. Like the stdin thread, the writer never keeps the
// process alive: the destructor waits at most `drain_time` for what is queued.
// A regular file (or /dev/null) never stops reading: it is written at each
// flush, directly, and nothing is dropped.
class console_output : public std::ostream {
 public:
  explicit console_output(int fd, std::size_t limit = std::size_t{1} << 20,
                          std::chrono::milliseconds drain_time = std::chrono::milliseconds(250));
  ~console_output() override;
  console_output(const console_output&) = delete;
  console_output& operator=(const console_output&) = delete;

 private:
  class buffer;
  std::unique_ptr<buffer> buffer_;
};

// What the clients show at a terminal while they wait for a typed line.
inline constexpr std::string_view send_prompt = "SEND (q or Q to quit): ";

// Whether a descriptor (0, 1, 2) is a terminal, where a person reads and types.
bool is_terminal(int fd) noexcept;
inline bool stdout_is_terminal() noexcept {
  return is_terminal(1);
}
inline bool stdin_is_terminal() noexcept {
  return is_terminal(0);
}

// Writes one whole line to the stream and flushes it, so that output piped to
// another program arrives line by line.
void write_line(std::ostream& stream, std::string_view line);

}  // namespace coronet
