// SPDX-License-Identifier: BSL-1.0
// tcp_client: the seed's TCP client, full duplex. Lines typed at stdin go to
// the server while the lines the server sends are printed as they arrive;
// neither direction waits for the other. 'q' (or 'Q') from either side ends
// it; the end of input half-closes the connection, and what the server still
// sends is printed until it closes.
//
// On a terminal it prompts and labels what it receives (with a line editor,
// line_editor.hpp, that keeps the line being typed intact); in a pipe stdout
// gets exactly the bytes of the lines received, so it composes like netcat.
//
// Try it from a second terminal while `tcp_server` (or `nc -l 5000`) runs:
//   tcp_client localhost 5000
//   printf 'a\nb\n' | tcp_client localhost 5000   # against tcp_server --mode echo: prints a, b
//
// Read it in this order: connect.cpp (finding the server), this file (the
// two directions), then display.cpp (what the user sees of them).
#include <fmt/format.h>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <variant>

#include "coronet/awaitable.hpp"
#include "coronet/console.hpp"
#include "coronet/net.hpp"
#include "coronet/protocol.hpp"
#include "tcp_client/client.hpp"
#include "tcp_client/conversation.hpp"

namespace coronet {

namespace {

using namespace asio::experimental::awaitable_operators;

// After the operator's q the server may still have last words (an echo server
// sends the q back and closes): they are printed for this long at most.
constexpr std::chrono::milliseconds quit_linger{500};

// One item from the console, added to the next write. From a pipe or a file
// the line goes as it came, so the client composes like netcat: CRLF stays
// CRLF, and a last line without a line ending is sent without one. A line
// typed at a terminal ends in LF on every system.
void add_to_batch(conversation& talk, error_code ec, std::string_view line, std::string& batch) {
  // A typed line has moved the terminal past the send_prompt (its Enter was echoed).
  if (ec == errc::line_too_long) {
    talk.prompting = false;
    report(talk, fmt::format("not sent: line longer than {} bytes", talk.con.input.max_line()));
  } else if (ec) {
    talk.input_ended = true;
  } else {
    talk.prompting = false;
    const std::string_view text = strip_line_ending(line);
    talk.quitting = is_quit(text);
    // Typed, q is plainly the user's command; in a pipe it would end the
    // sending unseen, so the client says so.
    if (talk.quitting && !talk.con.input.reads_terminal())
      report(talk, "stopped at a 'q' line (q alone on a line is a command): what follows it was not sent");
    if (talk.con.input.reads_terminal()) {
      batch += text;
      batch += '\n';
    } else {
      batch += line;
    }
  }
}

// Sends typed lines as they come. Suspends on the console (for a line or the
// end of input) and in each write. Cancelled when the receiving side ends the
// conversation first; a cancelled console wait loses no line.
asio::awaitable<int> send_typed_lines(conversation* talk) {
  constexpr std::size_t max_batch = std::size_t{64} * 1024;
  const auto cs = co_await asio::this_coro::cancellation_state;
  show_prompt(*talk);
  while (!talk->input_ended && !talk->quitting) {
    std::string batch;
    auto [ec, line] = co_await talk->con.input.receive();
    // Cancelled in the wait: that is no end of input (a cancelled wait
    // leaves its line in the console), and a line that came with the
    // cancellation counts as not sent.
    if (cancelled(cs)) {
      if (!ec) talk->unsent = line.size();
      co_return stopped(*talk);
    }
    add_to_batch(*talk, ec, line, batch);
    // Lines already waiting (a paste, a pipe, a file) join the same write.
    while (!talk->input_ended && !talk->quitting && batch.size() < max_batch) {
      auto waiting = talk->con.input.try_receive();
      if (!waiting) break;
      add_to_batch(*talk, std::get<0>(*waiting), std::get<1>(*waiting), batch);
    }
    // The send_prompt goes up before the write, so that an answer never arrives ahead of it.
    if (!talk->input_ended && !talk->quitting) show_prompt(*talk);
    if (batch.empty()) continue;
    talk->unsent = batch.size();
    auto [write_error, written] =
        co_await asio::async_write(talk->socket, asio::buffer(batch), use_nothrow_awaitable);
    if (write_error) {
      if (cancelled(cs)) co_return stopped(*talk);
      report(*talk, fmt::format("connection lost: {}", describe(write_error)));
      co_return 1;
    }
    talk->bytes_sent += written;
    talk->unsent = 0;
  }
  // Nothing more to send: the half-close tells the server so, and the
  // receiving side goes on printing what it still sends.
  leave_prompt(*talk);
  error_code ignored;
  talk->socket.shutdown(tcp::socket::shutdown_send, ignored);
  // Suspends until the receiving side sees the server close (and cancels this
  // wait); after the operator's q, for a moment at most.
  asio::steady_timer wait(talk->socket.get_executor());
  if (talk->quitting) {
    wait.expires_after(quit_linger);
  } else {
    wait.expires_at(asio::steady_timer::time_point::max());
  }
  co_await wait.async_wait(use_nothrow_awaitable);
  co_return 0;
}

// The server has closed the connection, after both directions have ended.
// Input that was read and not sent, or that still comes, was not all sent,
// which must not look like success: says how much was sent and what was read
// but not, and exits 1. A pipe whose last line was sent may not have shown
// its end yet, so the next item is awaited for a moment: the end of the
// input, or more of it. Input that stays open and brings nothing in that
// moment (a terminal, a pipe whose writer is idle) has lost nothing: that
// the user had not ended it is no loss. Suspends on the console, for that
// moment at most. The exit code.
asio::awaitable<int> report_server_closed(conversation* talk) {
  constexpr std::chrono::milliseconds grace{200};
  std::uint64_t unsent_bytes = talk->unsent;
  bool input_goes_on = false;
  const auto take = [&](const error_code& ec, const std::string& line) {
    if (ec == asio::error::eof) {
      talk->input_ended = true;
    } else if (!ec) {
      unsent_bytes += line.size();
    }
  };
  while (!talk->input_ended) {
    auto waiting = talk->con.input.try_receive();
    if (!waiting) break;
    take(std::get<0>(*waiting), std::get<1>(*waiting));
  }
  if (!talk->input_ended) {
    asio::steady_timer timer(talk->socket.get_executor(), grace);
    auto next = co_await (talk->con.input.receive() || timer.async_wait(use_nothrow_awaitable));
    if (next.index() == 0) {
      take(std::get<0>(std::get<0>(next)), std::get<1>(std::get<0>(next)));
      input_goes_on = !talk->input_ended;
    }
  }
  if (unsent_bytes == 0) {
    report(*talk, "the server closed the connection");
    co_return 0;
  }
  std::string what = fmt::format(
      "the server closed the connection before the input was all sent: {} bytes sent", talk->bytes_sent);
  if (unsent_bytes != 0) what += fmt::format(", {} bytes read and not sent", unsent_bytes);
  if (input_goes_on) what += ", and the rest of the input not read";
  report(*talk, what);
  co_return 1;
}

// Prints what the server sends as it arrives, until it sends q or closes.
// Suspends in each read. Cancelled when the operator's side ends first.
asio::awaitable<int> print_received_lines(conversation* talk, std::size_t max_line) {
  const auto cs = co_await asio::this_coro::cancellation_state;
  line_splitter splitter(max_line);
  std::string pass_through;
  error_code ec;
  while (!ec) {
    const auto space = splitter.prepare();
    std::size_t n = 0;
    std::tie(ec, n) = co_await talk->socket.async_read_some(asio::buffer(space.data(), space.size()),
                                                            use_nothrow_awaitable);
    splitter.commit(n);
    for (auto r = splitter.next(); r.what != line_splitter::status::need_more; r = splitter.next()) {
      if (r.what == line_splitter::status::too_long) {
        write_through(*talk, pass_through);
        report(*talk, fmt::format("skipped a received line longer than {} bytes", max_line));
        splitter.skip_long_line();
        continue;
      }
      if (is_quit(r.value.text)) {
        write_through(*talk, pass_through);
        if (!talk->quitting) report(*talk, "the server sent q: conversation over");
        co_return 0;
      }
      show_received(*talk, r.value, pass_through);
    }
    write_through(*talk, pass_through);
  }
  // A last line the server did not end is still part of what it sent.
  if (const auto rest = splitter.pending(); !rest.empty()) {
    show_received(*talk, {.text = strip_line_ending(rest), .raw = rest}, pass_through);
    write_through(*talk, pass_through);
  }
  if (talk->quitting) co_return 0;
  if (cancelled(cs)) co_return stopped(*talk);
  if (ec == asio::error::eof) {
    talk->server_closed = true;  // converse() reports it, once the sending side has stopped
    co_return 0;
  }
  report(*talk, fmt::format("connection lost: {}", describe(ec)));
  co_return 1;
}

}  // namespace

asio::awaitable<int> converse(tcp::socket socket, console con, std::size_t max_line,
                              typed_line_editor editor) {
  conversation talk{.socket = std::move(socket), .con = con, .editor = std::move(editor)};
  if (talk.editor) talk.editor.start();
  // Both directions at once; whichever ends first ends the conversation and
  // cancels the other.
  auto first_to_end = co_await (send_typed_lines(&talk) || print_received_lines(&talk, max_line));
  if (talk.server_closed) co_return co_await report_server_closed(&talk);
  co_return std::visit([](int exit_code) { return exit_code; }, first_to_end);
}

}  // namespace coronet
