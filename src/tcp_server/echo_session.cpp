// SPDX-License-Identifier: BSL-1.0
// echo: every line goes back to its sender, byte for byte.
//
// The plain version, what a learner writes first (bench/peers/asio_plain_echo.cpp,
// the first rung of docs/walkthrough.md's ladder), is two lines in a loop:
//   auto [ec, n] = co_await asio::async_read_until(socket, buffer, '\n', use_nothrow_awaitable);
//   co_await asio::async_write(socket, buffer.data() ... n, use_nothrow_awaitable);
// This one keeps that shape (wait, read, write) with the three speed tricks
// of fast_io.hpp, and adds what a server needs: the line limit, the idle
// deadline, 'q', and an idle connection that holds no buffer.
#include <cstddef>
#include <memory>
#include <string_view>
#include <tuple>

#include "coronet/awaitable.hpp"
#include "coronet/protocol.hpp"
#include "tcp_server/client.hpp"
#include "tcp_server/fast_io.hpp"
#include "tcp_server/server_state.hpp"
#include "tcp_server/sessions.hpp"

namespace coronet {

namespace {

// The complete lines of one read lie next to each other in the splitter's
// buffer, so they all go back in one write of that span: no copy, no
// allocation, CRLF and NUL bytes exactly as they came.
struct echo_batch {
  std::string_view lines;  // every complete line of the read, endings included
  bool last = false;       // the session ends after sending them ('q', or the peer half-closed)
  bool too_long = false;   // a line over max_line began after them
};

echo_batch take_lines(line_splitter& splitter) {
  echo_batch batch;
  auto r = splitter.next();
  for (; r.what == line_splitter::status::line; r = splitter.next()) {
    const char* first = batch.lines.empty() ? r.value.raw.data() : batch.lines.data();
    batch.lines = {first, static_cast<std::size_t>(r.value.raw.data() + r.value.raw.size() - first)};
    if (is_quit(r.value.text)) {  // 'q' comes back, then the session ends
      batch.last = true;
      return batch;
    }
  }
  batch.too_long = r.what == line_splitter::status::too_long;
  return batch;
}

// What one read brought: the lines to send back. `ec` is set when the
// session must end (a reset, or the socket closed by stop()).
echo_batch read_batch(client& c, line_splitter& splitter, bool& drained, error_code& ec) {
  ec = read_arrived(c.socket, splitter, drained);
  if (ec == asio::error::would_block) {
    ec = {};
    return {};  // nothing had arrived: `drained` is set, and the loop waits
  }
  if (ec == asio::error::eof) {
    ec = {};
    note_end(c, end_reason::peer_closed);
    return {.lines = splitter.pending(), .last = true};  // half-closed: its unterminated line comes back too
  }
  if (ec) {
    note_end(c, end_reason::lost);
    return {};
  }
  const echo_batch batch = take_lines(splitter);
  if (batch.last) note_end(c, end_reason::quit);
  return batch;
}

}  // namespace

// It suspends in two places only, the wait for readability and the write
// (and that only for what the kernel did not take at once), and the work
// between them is in plain functions: an idle connection waits in this
// frame alone, so what it holds is what every idle connection costs (1.49
// KiB in all, docs/performance.md). Closing the socket (stop()) ends either
// wait.
asio::awaitable<void> echo_lines(std::shared_ptr<client> c, const server* s) {
  line_splitter splitter(s->options.max_line);
  bool drained = false;
  error_code ec;
  while (true) {
    if (drained) {
      if (splitter.pending().empty()) splitter.release_if_empty();
      std::tie(ec) = co_await wait_readable(c->socket);
      if (ec) {
        note_end(*c, end_reason::lost);
        co_return;
      }
    }
    const echo_batch batch = read_batch(*c, splitter, drained, ec);
    if (ec) co_return;
    if (!batch.lines.empty()) {
      push_deadline(*c, s->options.idle_timeout);
      ec = co_await write_all(&c->socket, batch.lines);
      if (ec) {
        note_end(*c, end_reason::lost);
        co_return;
      }
    }
    if (batch.last) co_return;
    if (batch.too_long) {
      stop(*c, end_reason::line_too_long, too_long_message(s->options.max_line));
      co_return;
    }
  }
}

}  // namespace coronet
