// udp_client: sends every typed line as one datagram, as the seed's client
// did, then waits for the server to send the same bytes back. No echo within
// --timeout: the line is sent again, up to --retries times.
//
// Try it: `udp_server` in one terminal, then in a second one
//   udp_client                 (type lines; 'q' ends)
//   echo hello | udp_client    (prints the echo, exits 0 when answered)
//
// How echoes are matched: a reply carries nothing but the bytes that were
// sent (so nc, socat and the seed's server work as servers), so a reply
// belongs to the current line when it holds exactly that line. Anything else
// is a late echo of an earlier line, given up on, and is skipped. An earlier
// line with the same text cannot be told apart from the current one; its
// echo then answers the current line, which is true of its bytes.
#include "udp_client.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>
#include <string_view>
#include <vector>

#include "coronet/net.hpp"

namespace coronet {

namespace {

using namespace asio::experimental::awaitable_operators;
using std::chrono::steady_clock;
constexpr auto as_value = asio::as_tuple(asio::use_awaitable);

// Larger than any UDP payload (65527 bytes over IPv6): no echo is truncated.
constexpr std::size_t receive_buffer_size = 65536;

enum class outcome { answered, unanswered, failed, refused };

// The ICMP port-unreachable that says nobody listens: "connection refused"
// on Linux and macOS, "connection reset" on Windows.
bool is_refusal(const error_code& ec) {
  return ec == asio::error::connection_refused || ec == asio::error::connection_reset;
}

std::size_t max_payload(const udp::endpoint& server) {
  return server.address().is_v6() ? max_udp_payload_v6 : max_udp_payload_v4;
}

// Servers listen on 127.0.0.1 by default, and "localhost" may name ::1 as
// well: an IPv4 address is preferred when the name has both.
asio::awaitable<std::optional<udp::endpoint>> resolve_server(const udp_client_options& options,
                                                             std::ostream& err) {
  udp::resolver resolver(co_await asio::this_coro::executor);
  auto [ec, results] = co_await resolver.async_resolve(options.host, std::to_string(options.port),
                                                       udp::resolver::numeric_service, as_value);
  if (ec || results.empty()) {
    err << "error: cannot resolve " << options.host << ": " << describe(ec) << '\n';
    co_return std::nullopt;
  }
  for (const auto& entry : results) {
    if (entry.endpoint().address().is_v4()) co_return entry.endpoint();
  }
  co_return results.begin()->endpoint();
}

void print_reply(const console& console, std::string_view reply, steady_clock::duration rtt) {
  if (!console.interactive) {
    write_line(console.out, reply);  // exactly the bytes received, for the next program in the pipe
    return;
  }
  const std::chrono::duration<double, std::milli> milliseconds = rtt;
  write_line(console.out,
             fmt::format("RECEIVED: {} (rtt {:.1f} ms)", terminal_safe(reply), milliseconds.count()));
}

// Echoes of earlier lines that came after those lines were given up are
// still queued on the socket: drops them without waiting, so that the first
// reply read for the next line is no older than that line. (An echo that is
// still on its way cannot be told from the next line's when both lines are
// the same bytes: an echo server sends back nothing else to tell them by.)
// False when what waited was the news that nobody listens.
bool drop_late_replies(udp::socket& socket, std::vector<char>& buffer, const console& console, bool verbose) {
  error_code ec;
  while (socket.available(ec) > 0) {
    const std::size_t size = socket.receive(asio::buffer(buffer), 0, ec);
    if (is_refusal(ec)) return false;
    if (ec) break;
    if (verbose)
      console.err << "dropped a late reply: " << terminal_safe(std::string_view(buffer.data(), size)) << '\n';
  }
  return true;
}

// Sends one line on the connected socket and waits for its echo, sending it
// again after each timeout, up to options.retries times.
asio::awaitable<outcome> exchange(udp::socket& socket, std::string_view line,
                                  const udp_client_options& options, const console& console,
                                  std::vector<char>& buffer) {
  if (!drop_late_replies(socket, buffer, console, options.verbose)) co_return outcome::refused;
  asio::steady_timer timer(socket.get_executor());
  const int tries = options.retries + 1;
  for (int attempt = 1; attempt <= tries; ++attempt) {
    const auto sent_at = steady_clock::now();
    auto [send_error, sent] = co_await socket.async_send(asio::buffer(line), as_value);
    if (is_refusal(send_error)) co_return outcome::refused;  // the ICMP from an earlier try
    if (send_error) {
      console.err << "error: cannot send: " << describe(send_error) << '\n';
      co_return outcome::failed;
    }
    timer.expires_at(sent_at + options.timeout);
    while (true) {
      // Suspends until a datagram arrives or this try times out; the
      // operator cancels whichever wait did not finish first.
      auto first =
          co_await (socket.async_receive(asio::buffer(buffer), as_value) || timer.async_wait(as_value));
      if (first.index() == 1) break;  // timed out
      auto [receive_error, size] = std::get<0>(first);
      if (is_refusal(receive_error)) co_return outcome::refused;
      if (receive_error) {
        console.err << "error: cannot receive: " << describe(receive_error) << '\n';
        co_return outcome::failed;
      }
      const std::string_view reply(buffer.data(), size);
      if (reply == line) {
        print_reply(console, reply, steady_clock::now() - sent_at);
        co_return outcome::answered;
      }
      if (options.verbose)
        console.err << "ignored a late or unexpected reply: " << terminal_safe(reply) << '\n';
    }
    if (options.verbose && attempt < tries) {
      console.err << "no reply within " << options.timeout.count() << " ms, sending again\n";
    }
  }
  console.err << "no reply from " << format_endpoint(socket.remote_endpoint()) << " after " << tries
              << (tries == 1 ? " try\n" : " tries\n");
  co_return outcome::unanswered;
}

}  // namespace

asio::awaitable<int> run_udp_client(udp_client_options options, const console& console) {
  const auto server = co_await resolve_server(options, console.err);
  if (!server) co_return 1;
  const std::string target = format_endpoint(*server);
  udp::socket socket(co_await asio::this_coro::executor, server->protocol());
  if (options.wait_for_reply) {
    // A connected socket receives only the server's datagrams, and hears the
    // ICMP that says nobody listens there. The seed's client (--no-wait)
    // sends unconnected, and so never learns either.
    error_code ec;
    socket.connect(*server, ec);
    if (ec) {
      console.err << "error: cannot send to " << target << ": " << describe(ec) << '\n';
      co_return 1;
    }
  }
  if (options.verbose) console.err << "sending to " << target << " (udp)\n";
  std::vector<char> buffer(options.wait_for_reply ? receive_buffer_size : 0);

  bool all_answered = true;
  while (true) {
    // Suspends until the next line is typed (or stdin ends).
    auto [ec, line] = co_await console.input.receive();
    if (ec == asio::error::eof || (!ec && is_quit(line))) break;
    if (ec) {
      console.err << "error: line longer than " << console.input.max_line() << " bytes, not sent\n";
      all_answered = false;
      continue;
    }
    if (line.size() > max_payload(*server)) {
      console.err << "error: a line of " << line.size() << " bytes does not fit in one datagram (at most "
                  << max_payload(*server) << "), not sent\n";
      all_answered = false;
      continue;
    }
    if (!options.wait_for_reply) {
      auto [send_error, sent] = co_await socket.async_send_to(asio::buffer(line), *server, as_value);
      if (send_error) {
        console.err << "error: cannot send to " << target << ": " << describe(send_error) << '\n';
        all_answered = false;
      }
      continue;
    }
    const outcome result = co_await exchange(socket, line, options, console, buffer);
    if (result == outcome::refused) {
      console.err << "no server at " << target << " (connection refused)\n";
      co_return 1;
    }
    if (result != outcome::answered) all_answered = false;
  }
  co_return all_answered ? 0 : 1;
}

}  // namespace coronet
