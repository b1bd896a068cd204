// SPDX-License-Identifier: BSL-1.0
// udp_client: sends every typed line as one datagram, as the seed's client
// did, then waits for the server to send the same bytes back. No echo within
// --timeout: the line is sent again, up to --retries times.
//
// Try it: `udp_server` in one terminal, then in a second one
//   udp_client                 (type lines; 'q' ends)
//   echo hello | udp_client    (prints the echo, exits 0 when answered)
//
// How echoes are matched: a reply carries only the bytes that were sent (so
// nc, socat and the seed's server work as servers): it belongs to the
// current line when it holds that line, give or take one trailing line
// ending (a person answering on `nc -u -l` sends the LF of Enter), and is
// otherwise a late echo of a line given up on, skipped. An earlier line with
// the same text cannot be told apart; its echo answers the current line,
// which is true of its bytes. resolve.cpp finds the server's addresses.
#include "udp_client/udp_client.hpp"

#include <fmt/format.h>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <ostream>
#include <ratio>
#include <string_view>
#include <utility>
#include <vector>

#include "coronet/awaitable.hpp"
#include "coronet/console.hpp"
#include "coronet/net.hpp"
#include "coronet/protocol.hpp"

namespace coronet {

namespace {

using namespace asio::experimental::awaitable_operators;
using std::chrono::steady_clock;

// Larger than any UDP payload (65527 bytes over IPv6): no echo is truncated.
constexpr std::size_t receive_buffer_size = 65536;

enum class outcome { answered, unanswered, failed, refused };

// What one run of the client shares between its coroutines; it lives in
// send_lines(), which outlives them.
struct session {
  udp::socket socket;
  udp_client_options options;
  console con;
  std::vector<udp::endpoint> servers;
  std::size_t current = 0;     // the address in use; the next is tried while none has answered
  bool answered_once = false;  // by any address: from then on the client stays with it
  std::vector<char> buffer = std::vector<char>(receive_buffer_size);
};

// The ICMP port-unreachable that says nobody listens: "connection refused"
// on Linux and macOS, "connection reset" on Windows.
bool is_refusal(const error_code& ec) {
  return ec == asio::error::connection_refused || ec == asio::error::connection_reset;
}

std::size_t max_payload(const udp::endpoint& server) {
  return server.address().is_v6() ? max_udp_payload_v6 : max_udp_payload_v4;
}

void show_prompt(const session& s) {
  if (s.con.interactive) s.con.out << send_prompt << std::flush;
}

void print_reply(const session& s, std::string_view reply, steady_clock::duration rtt) {
  if (!s.con.interactive) {
    write_line(s.con.out, reply);  // the line's bytes, for the next program in the pipe
    return;
  }
  const std::chrono::duration<double, std::milli> milliseconds = rtt;
  write_line(s.con.out,
             fmt::format("RECEIVED: {} (rtt {:.1f} ms)", terminal_safe(reply), milliseconds.count()));
}

// Echoes of earlier lines that came after those lines were given up are
// still queued on the socket: drops them without waiting, so that the first
// reply read for the next line is no older than that line. (An echo that is
// still on its way cannot be told from the next line's when both lines are
// the same bytes: an echo server sends back nothing else to tell them by.)
// False when what waited was the news that nobody listens.
bool drop_late_replies(session& s) {
  error_code ec;
  while (s.socket.available(ec) > 0) {
    const std::size_t size = s.socket.receive(asio::buffer(s.buffer), 0, ec);
    if (is_refusal(ec)) return false;
    if (ec) break;
    if (s.options.verbose)
      write_line(s.con.err, fmt::format("dropped a late reply: {}", terminal_safe({s.buffer.data(), size})));
  }
  return true;
}

// One try's wait for the echo of `line`, sent at `sent_at`: suspends until a
// datagram arrives or `timer` expires; the operator cancels whichever wait
// did not finish first. Late or unexpected replies are skipped, and the race
// runs again against the same deadline. No outcome: this try timed out.
asio::awaitable<std::optional<outcome>> await_echo(session* s, std::string_view line,
                                                   asio::steady_timer* timer,
                                                   steady_clock::time_point sent_at) {
  while (true) {
    auto first = co_await (s->socket.async_receive(asio::buffer(s->buffer), use_nothrow_awaitable) ||
                           timer->async_wait(use_nothrow_awaitable));
    if (first.index() == 1) co_return std::nullopt;  // timed out
    auto [receive_error, size] = std::get<0>(first);
    if (is_refusal(receive_error)) co_return outcome::refused;
    if (receive_error) {
      write_line(s->con.err, fmt::format("error: cannot receive: {}", describe(receive_error)));
      co_return outcome::failed;
    }
    const std::string_view reply = strip_line_ending({s->buffer.data(), size});
    if (reply == line) {
      print_reply(*s, reply, steady_clock::now() - sent_at);
      co_return outcome::answered;
    }
    if (s->options.verbose)
      write_line(s->con.err, fmt::format("ignored a late or unexpected reply: {}", terminal_safe(reply)));
  }
}

// Sends one line on the connected socket and waits for its echo, sending it
// again after each timeout, up to options.retries times. Suspends in each
// send and in await_echo().
asio::awaitable<outcome> exchange(session* s, std::string_view line) {
  if (!drop_late_replies(*s)) co_return outcome::refused;
  asio::steady_timer timer(s->socket.get_executor());
  const int tries = s->options.retries + 1;
  for (int attempt = 1; attempt <= tries; ++attempt) {
    const auto sent_at = steady_clock::now();
    auto [send_error, sent] = co_await s->socket.async_send(asio::buffer(line), use_nothrow_awaitable);
    if (is_refusal(send_error)) co_return outcome::refused;  // the ICMP from an earlier try
    if (send_error) {
      write_line(s->con.err, fmt::format("error: cannot send: {}", describe(send_error)));
      co_return outcome::failed;
    }
    timer.expires_at(sent_at + s->options.timeout);
    const std::optional<outcome> result = co_await await_echo(s, line, &timer, sent_at);
    if (result) co_return *result;
    if (s->options.verbose && attempt < tries)
      write_line(s->con.err, fmt::format("no reply within {} ms, sending again", s->options.timeout.count()));
  }
  write_line(s->con.err,
             fmt::format("no reply from {} after {} {}", format_endpoint(s->socket.remote_endpoint()), tries,
                         tries == 1 ? "try" : "tries"));
  co_return outcome::unanswered;
}

// Points the socket at `server`. A connected socket receives only that
// server's datagrams, and hears the ICMP that says nobody listens there.
// The seed's client (--no-wait) sends unconnected, and so never learns either.
bool aim_at(session& s, const udp::endpoint& server) {
  error_code ec;
  if (s.socket.is_open()) s.socket.close(ec);
  s.socket.open(server.protocol(), ec);
  if (!ec && s.options.wait_for_reply) s.socket.connect(server, ec);
  if (ec)
    write_line(s.con.err, fmt::format("error: cannot send to {}: {}", format_endpoint(server), describe(ec)));
  if (!ec && s.options.verbose)
    write_line(s.con.err, fmt::format("sending to {} (udp)", format_endpoint(server)));
  return !ec;
}

// exchange() with the address in use. Nobody listens there: while no address
// has answered, the next one gets the same line (localhost may be ::1 as
// well as 127.0.0.1). Refused: nobody listens at the last address tried (said
// here), or the next could not be aimed at (aim_at() said why); either ends
// the client. Suspends in each exchange().
asio::awaitable<outcome> exchange_with_any(session* s, std::string_view line) {
  outcome result = co_await exchange(s, line);
  while (result == outcome::refused && !s->answered_once && s->current + 1 < s->servers.size()) {
    if (s->options.verbose)
      write_line(s->con.err, fmt::format("no server at {} (connection refused)",
                                         format_endpoint(s->servers[s->current])));
    if (!aim_at(*s, s->servers[++s->current])) co_return outcome::refused;
    result = co_await exchange(s, line);
  }
  if (result == outcome::refused) {
    write_line(s->con.err,
               fmt::format("no server at {} (connection refused)", format_endpoint(s->servers[s->current])));
  }
  if (result == outcome::answered && !s->answered_once) {
    s->answered_once = true;
    if (s->options.verbose)
      write_line(s->con.err, fmt::format("{} answered", format_endpoint(s->servers[s->current])));
  }
  co_return result;
}

}  // namespace

asio::awaitable<int> send_lines(std::vector<udp::endpoint> servers, udp_client_options options, console con) {
  const auto executor = co_await asio::this_coro::executor;
  session s{.socket = udp::socket(executor),
            .options = std::move(options),
            .con = con,
            .servers = std::move(servers)};
  if (!aim_at(s, s.servers[s.current])) co_return 1;

  bool all_answered = true;
  for (const auto cs = co_await asio::this_coro::cancellation_state;;) {
    show_prompt(s);
    // Suspends until the next line is typed (or stdin ends), or Ctrl-C
    // cancels the wait (the exit code is then the signal's).
    auto [ec, typed] = co_await s.con.input.receive();
    if (cancelled(cs)) co_return 1;
    const std::string_view line = strip_line_ending(typed);  // one datagram: the line's text
    if (ec == asio::error::eof || (!ec && is_quit(line))) break;
    if (ec) {
      write_line(s.con.err,
                 fmt::format("error: line longer than {} bytes, not sent", s.con.input.max_line()));
      all_answered = false;
      continue;
    }
    const udp::endpoint& server = s.servers[s.current];
    if (line.size() > max_payload(server)) {
      write_line(s.con.err,
                 fmt::format("error: a line of {} bytes does not fit in one datagram (at most {}), not sent",
                             line.size(), max_payload(server)));
      all_answered = false;
      continue;
    }
    if (!s.options.wait_for_reply) {
      auto [send_error, sent] =
          co_await s.socket.async_send_to(asio::buffer(line), server, use_nothrow_awaitable);
      if (send_error) {
        write_line(s.con.err, fmt::format("error: cannot send to {}: {}", format_endpoint(server),
                                          describe(send_error)));
        all_answered = false;
      }
      continue;
    }
    const outcome result = co_await exchange_with_any(&s, line);
    if (result == outcome::refused) co_return 1;
    if (result != outcome::answered) all_answered = false;
  }
  co_return all_answered ? 0 : 1;
}

}  // namespace coronet
