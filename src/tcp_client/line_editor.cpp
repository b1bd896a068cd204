// SPDX-License-Identifier: BSL-1.0
// tcp_client's line editor (line_editor.hpp), on libedit.
//
// Why a thread of its own, and why one: libedit keeps the line, the prompt
// and the terminal's mode in globals that no lock of its own guards, and its
// readline interface reads the terminal with blocking reads. So one thread,
// the editor's, makes every libedit call: it waits in poll() for a key on
// stdin or a byte on a wake pipe (the only place it suspends, apart from
// handing a typed line to console_input, which waits while the program's
// queue is full). The program's thread never touches libedit or the
// terminal: show_above() queues the line under mutex_ and wakes the editor,
// which clears the line being typed, prints the queued lines, and has
// libedit draw the prompt and the partial input again below them.
//
// The terminal: libedit leaves ISIG set, so Ctrl-C still raises SIGINT,
// which coronet::stop_signals takes (rl_catch_signals = 0: libedit must not
// install handlers of its own). libedit gives the terminal back its cooked
// mode at the end of each line and takes it again at the next prompt; the
// destructor, which runs on every way out of main() (q, the server's close,
// Ctrl-C, an exception the program reports), removes the handler, which
// restores the mode the terminal had.
#include "tcp_client/line_editor.hpp"

#include <editline/readline.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "coronet/console.hpp"
#include "coronet/protocol.hpp"
#include "tcp_client/client.hpp"

namespace coronet {

namespace {

// libedit's callback takes no context: the one editor of the process.
line_editor* the_editor = nullptr;

// Past this many bytes waiting for the terminal (paused with Ctrl-S, say),
// received lines are dropped and counted, as console_output does.
constexpr std::size_t queue_limit = std::size_t{1} << 20;

// The columns a text takes on the terminal: one per character of UTF-8 (the
// bytes 0x80-0xBF continue a character).
std::size_t columns_of(std::string_view text) {
  std::size_t columns = 0;
  for (const char c : text)
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++columns;
  return columns;
}

std::size_t terminal_width() {
  winsize size{};
  if (::ioctl(1, TIOCGWINSZ, &size) != 0 || size.ws_col == 0) return 80;
  return size.ws_col;
}

void write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the terminal has gone: nothing more to show
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

line_editor::line_editor(console_input& input, std::string prompt)
    : input_(input), prompt_(std::move(prompt)) {
  std::array<int, 2> ends{};
  if (::pipe(ends.data()) != 0) throw std::system_error(errno, std::generic_category(), "line editor: pipe");
  wake_read_ = ends[0];
  wake_write_ = ends[1];
  ::fcntl(wake_read_, F_SETFL, O_NONBLOCK);   // drained without waiting
  ::fcntl(wake_write_, F_SETFL, O_NONBLOCK);  // a full pipe already wakes the editor
  input_.set_reads_terminal(true);
}

line_editor::~line_editor() {
  if (thread_.joinable()) {
    {
      const std::scoped_lock lock(mutex_);
      stopping_ = true;
    }
    // A typed line waiting for room in the program's queue is let go.
    input_.stop_delivery();
    const char wake = 's';
    // A failed write loses nothing: the pipe is full, which wakes the editor.
    [[maybe_unused]] const ssize_t written = ::write(wake_write_, &wake, 1);
    thread_.join();
  }
  ::close(wake_read_);
  ::close(wake_write_);
}

typed_line_editor line_editor::hooks() {
  return {.start = [this] { start(); },
          .show_above = [this](std::string_view text, bool diagnostic) { show_above(text, diagnostic); }};
}

void line_editor::start() {
  if (thread_.joinable()) return;
  // The thread inherits this one's blocked signals: SIGINT and SIGTERM go to
  // stop_signals' own thread.
  thread_ = std::thread([this] { edit_until_stopped(); });
}

void line_editor::show_above(std::string_view text, bool diagnostic) {
  {
    const std::scoped_lock lock(mutex_);
    if (!queue_.empty() && queued_bytes_ + text.size() > queue_limit) {
      ++missed_lines_;
      return;
    }
    queued_bytes_ += text.size();
    queue_.push_back({.text = std::string(text), .diagnostic = diagnostic});
  }
  const char wake = 'w';
  // A failed write loses nothing: the pipe is full, which wakes the editor.
  [[maybe_unused]] const ssize_t written = ::write(wake_write_, &wake, 1);
}

// The editor's thread: every libedit call is made here.
void line_editor::edit_until_stopped() {
  the_editor = this;
  rl_catch_signals = 0;
  rl_catch_sigwinch = 0;
  rl_callback_handler_install(prompt_.c_str(), on_typed_line);
  reading_ = true;
  while (true) {
    std::array<pollfd, 2> fds{pollfd{.fd = wake_read_, .events = POLLIN, .revents = 0},
                              pollfd{.fd = 0, .events = POLLIN, .revents = 0}};
    // Suspends until the program wakes it, or (while it reads) a key comes.
    if (::poll(fds.data(), reading_ ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents != 0 && !take_wakeup()) break;
    if (reading_ && fds[1].revents != 0) read_typed_key();
  }
  print_queued();
  if (reading_) {
    rl_callback_handler_remove();
    reading_ = false;
    write_all(1, "\n");  // the shell's prompt starts on a line of its own
  }
  the_editor = nullptr;
}

// The program woke the thread: prints what it queued. False once it is
// stopping the editor.
bool line_editor::take_wakeup() {
  std::array<char, 256> drained{};
  while (::read(wake_read_, drained.data(), drained.size()) > 0) {
  }
  print_queued();
  const std::scoped_lock lock(mutex_);
  return !stopping_;
}

// A key came: libedit takes it, and calls on_typed_line() if it ends a line.
void line_editor::read_typed_key() {
  line_taken_ = false;
  rl_callback_read_char();
  // libedit leaves the terminal cooked after a line, until its next
  // read: the prompt goes up again now, not at the next key.
  if (line_taken_ && reading_) rl_callback_handler_install(prompt_.c_str(), on_typed_line);
  if (line_taken_ && !reading_) rl_callback_handler_remove();
}

void line_editor::print_queued() {
  std::deque<shown_line> lines;
  std::size_t missed = 0;
  {
    const std::scoped_lock lock(mutex_);
    lines.swap(queue_);
    queued_bytes_ = 0;
    missed = std::exchange(missed_lines_, 0);
  }
  for (const auto& line : lines) print_above_line(line);
  if (missed != 0)
    print_above_line({.text = fmt::format("({} lines not shown: the console was not reading)", missed),
                      .diagnostic = true});
}

// Clears the prompt and the partial line (from its first row: a long line
// wraps), prints `line` there, and has libedit draw them again below it.
// The cursor moves with ANSI sequences, which every terminal emulator takes.
void line_editor::print_above_line(const shown_line& line) const {
  std::string out;
  if (reading_) {
    const std::size_t rows_above =
        (columns_of(prompt_) + static_cast<std::size_t>(rl_point)) / terminal_width();
    if (rows_above != 0) out += "\x1b[" + std::to_string(rows_above) + "A";
    out += "\r\x1b[J";
  }
  if (line.diagnostic) {
    write_all(1, out);
    write_all(2, line.text + "\n");
  } else {
    write_all(1, out + line.text + "\n");
  }
  if (reading_) rl_forced_update_display();
}

// A whole typed line (or nullptr: Ctrl-D on an empty line, the end of input).
void line_editor::take_typed_line(char* line) {
  line_taken_ = true;
  if (line == nullptr) {
    reading_ = false;
    input_.deliver(asio::error::eof, {});
    return;
  }
  const std::string text(line);
  std::free(line);  // NOLINT(cppcoreguidelines-no-malloc): libedit allocated it with malloc
  if (!text.empty()) add_history(text.c_str());
  if (text.size() > input_.max_line()) {
    input_.deliver(make_error_code(errc::line_too_long), {});
    return;
  }
  // After q nothing more is read: the terminal is given back at once.
  if (is_quit(text)) reading_ = false;
  input_.deliver({}, text + "\n");
}

void line_editor::on_typed_line(char* line) {
  if (the_editor != nullptr) the_editor->take_typed_line(line);
}

}  // namespace coronet
