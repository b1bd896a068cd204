// tcp_client: the seed's TCP client, full duplex. Lines typed at stdin go to
// the server while the lines the server sends are printed as they arrive;
// neither direction waits for the other. 'q' (or 'Q') from either side ends
// it; the end of input half-closes the connection, and what the server still
// sends is printed until it closes.
//
// On a terminal it prompts and labels what it receives; in a pipe stdout gets
// exactly the bytes of the lines received, so it composes like netcat.
//
// Try it from a second terminal while `tcp_server` (or `nc -l 5000`) runs:
//   tcp_client localhost 5000
//   printf 'a\nb\n' | tcp_client localhost 5000   # against tcp_server --mode echo: prints a, b
#include "tcp_client.hpp"

#include <fmt/chrono.h>
#include <fmt/core.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <string_view>
#include <variant>

#include "coronet/net.hpp"

namespace coronet {

namespace {

using namespace asio::experimental::awaitable_operators;

constexpr auto as_value = asio::as_tuple(asio::use_awaitable);  // expected errors come back as values
constexpr std::string_view prompt = "SEND (q or Q to quit): ";

// After the operator's q the server may still have last words (an echo server
// sends the q back and closes): they are printed for this long at most.
constexpr std::chrono::milliseconds quit_linger{500};

// What the two directions of one conversation share. It lives in converse(),
// which outlives both coroutines.
struct conversation {
  tcp::socket socket;
  console con;
  bool prompting = false;  // the prompt is the last thing on the terminal
  bool quitting = false;   // the operator typed q: the server's closing is expected
  bool input_ended = false;
};

void show_prompt(conversation& talk) {
  if (!talk.con.interactive) return;
  talk.con.out << prompt << std::flush;
  talk.prompting = true;
}

// Ends the prompt's line, so that a diagnostic on the same terminal starts on its own.
void leave_prompt(conversation& talk) {
  if (!talk.prompting) return;
  talk.con.out << std::endl;
  talk.prompting = false;
}

void report(conversation& talk, std::string_view what) {
  leave_prompt(talk);
  write_line(talk.con.err, what);
}

// A received line: on a terminal it takes the prompt's place ('\r', padded to
// cover it) and the prompt comes back below it; in a pipe its exact bytes are
// collected for one write per read.
void show_received(conversation& talk, const line_splitter::line& line, std::string& pass_through) {
  if (!talk.con.interactive) {
    pass_through += line.raw;
    return;
  }
  std::string shown = "\rRECEIVED: " + terminal_safe(line.text);
  if (shown.size() < prompt.size() + 1) shown.resize(prompt.size() + 1, ' ');
  talk.con.out << shown << '\n';
  if (talk.prompting) talk.con.out << prompt;
}

void write_through(conversation& talk, std::string& pass_through) {
  talk.con.out.write(pass_through.data(), static_cast<std::streamsize>(pass_through.size()));
  talk.con.out.flush();
  pass_through.clear();
}

// One item from the console, added to the next write.
void add_to_batch(conversation& talk, error_code ec, std::string_view line, std::string& batch) {
  // A typed line has moved the terminal past the prompt (its Enter was echoed).
  if (ec == errc::line_too_long) {
    talk.prompting = false;
    report(talk, fmt::format("not sent: line longer than {} bytes", talk.con.input.max_line()));
  } else if (ec) {
    talk.input_ended = true;
  } else {
    talk.prompting = false;
    talk.quitting = is_quit(line);
    batch += line;
    batch += '\n';
  }
}

// Sends typed lines as they come. Suspends on the console (for a line or the
// end of input) and in each write. Cancelled when the receiving side ends the
// conversation first; a cancelled console wait loses no line.
asio::awaitable<int> send_typed_lines(conversation& talk) {
  constexpr std::size_t max_batch = std::size_t{64} * 1024;
  show_prompt(talk);
  while (!talk.input_ended && !talk.quitting) {
    std::string batch;
    auto [ec, line] = co_await talk.con.input.receive();
    add_to_batch(talk, ec, line, batch);
    // Lines already waiting (a paste, a pipe, a file) join the same write.
    while (!talk.input_ended && !talk.quitting && batch.size() < max_batch) {
      auto waiting = talk.con.input.try_receive();
      if (!waiting) break;
      add_to_batch(talk, std::get<0>(*waiting), std::get<1>(*waiting), batch);
    }
    // The prompt goes up before the write, so that an answer never arrives ahead of it.
    if (!talk.input_ended && !talk.quitting) show_prompt(talk);
    if (batch.empty()) continue;
    auto [write_error, written] = co_await asio::async_write(talk.socket, asio::buffer(batch), as_value);
    if (write_error) {
      report(talk, fmt::format("connection lost: {}", describe(write_error)));
      co_return 1;
    }
  }
  // Nothing more to send: the half-close tells the server so, and the
  // receiving side goes on printing what it still sends.
  leave_prompt(talk);
  error_code ignored;
  talk.socket.shutdown(tcp::socket::shutdown_send, ignored);
  // Suspends until the receiving side sees the server close (and cancels this
  // wait); after the operator's q, for a moment at most.
  asio::steady_timer wait(talk.socket.get_executor());
  if (talk.quitting) {
    wait.expires_after(quit_linger);
  } else {
    wait.expires_at(asio::steady_timer::time_point::max());
  }
  co_await wait.async_wait(as_value);
  co_return 0;
}

// Prints what the server sends as it arrives, until it sends q or closes.
// Suspends in each read. Cancelled when the operator's side ends first.
asio::awaitable<int> print_received_lines(conversation& talk, std::size_t max_line) {
  line_splitter splitter(max_line);
  std::string pass_through;
  error_code ec;
  while (!ec) {
    const auto space = splitter.prepare();
    std::size_t n = 0;
    std::tie(ec, n) =
        co_await talk.socket.async_read_some(asio::buffer(space.data(), space.size()), as_value);
    splitter.commit(n);
    for (auto r = splitter.next(); r.what != line_splitter::status::need_more; r = splitter.next()) {
      if (r.what == line_splitter::status::too_long) {
        write_through(talk, pass_through);
        report(talk, fmt::format("skipped a received line longer than {} bytes", max_line));
        splitter.skip_long_line();
        continue;
      }
      if (is_quit(r.value.text)) {
        write_through(talk, pass_through);
        if (!talk.quitting) report(talk, "the server sent q: conversation over");
        co_return 0;
      }
      show_received(talk, r.value, pass_through);
    }
    write_through(talk, pass_through);
  }
  // A last line the server did not end is still part of what it sent.
  if (const auto rest = splitter.pending(); !rest.empty()) {
    show_received(talk, {strip_line_ending(rest), rest}, pass_through);
    write_through(talk, pass_through);
  }
  if (talk.quitting) co_return 0;
  if (ec == asio::error::eof) {
    report(talk, "the server closed the connection");
    co_return 0;
  }
  report(talk, fmt::format("connection lost: {}", describe(ec)));
  co_return 1;
}

}  // namespace

asio::awaitable<std::tuple<error_code, tcp::socket>> connect_to_first(std::vector<tcp::endpoint> endpoints,
                                                                      std::chrono::milliseconds timeout,
                                                                      console con, bool verbose) {
  const auto executor = co_await asio::this_coro::executor;
  error_code last_error = asio::error::host_not_found;  // when there is no address at all
  for (const auto& endpoint : endpoints) {
    if (verbose) write_line(con.err, fmt::format("trying {}", format_endpoint(endpoint)));
    tcp::socket socket(executor);
    asio::steady_timer timer(executor, timeout);
    // Suspends until the connection is made or refused, or the timer fires
    // first, which cancels the connect.
    auto outcome = co_await (socket.async_connect(endpoint, as_value) || timer.async_wait(as_value));
    last_error = outcome.index() == 0 ? std::get<0>(std::get<0>(outcome)) : asio::error::timed_out;
    if (!last_error) co_return std::tuple{error_code{}, std::move(socket)};
    if (verbose) write_line(con.err, fmt::format("{}: {}", format_endpoint(endpoint), describe(last_error)));
  }
  co_return std::tuple{last_error, tcp::socket(executor)};
}

asio::awaitable<int> converse(tcp::socket socket, console con, std::size_t max_line) {
  conversation talk{std::move(socket), con};
  // Both directions at once; whichever ends first ends the conversation and
  // cancels the other.
  auto first_to_end = co_await (send_typed_lines(talk) || print_received_lines(talk, max_line));
  co_return std::visit([](int exit_code) { return exit_code; }, first_to_end);
}

asio::awaitable<int> run_client(client_options options, console con) {
  const auto executor = co_await asio::this_coro::executor;
  const std::string target = format_host_port(options.host, options.port);

  // Suspends while the system's resolver looks the name up (on a thread of
  // Asio's, since getaddrinfo blocks). It yields IPv6 and IPv4 addresses.
  tcp::resolver resolver(executor);
  auto [resolve_error, results] = co_await resolver.async_resolve(options.host, std::to_string(options.port),
                                                                  tcp::resolver::numeric_service, as_value);
  if (resolve_error) {
    write_line(con.err, fmt::format("cannot connect to {}: cannot resolve {}: {}", target, options.host,
                                    describe(resolve_error)));
    co_return 1;
  }
  std::vector<tcp::endpoint> endpoints;
  for (const auto& entry : results) endpoints.push_back(entry.endpoint());

  auto [connect_error, socket] =
      co_await connect_to_first(std::move(endpoints), options.connect_timeout, con, options.verbose);
  if (connect_error == asio::error::timed_out) {
    write_line(con.err, fmt::format("cannot connect to {}: no answer within {}", target,
                                    std::chrono::duration<double>(options.connect_timeout)));
    co_return 1;
  }
  if (connect_error) {
    write_line(con.err, fmt::format("cannot connect to {}: {}", target, describe(connect_error)));
    co_return 1;
  }
  if (con.interactive || options.verbose) {
    error_code ignored;
    write_line(con.err, fmt::format("connected to {}", format_endpoint(socket.remote_endpoint(ignored))));
  }
  co_return co_await converse(std::move(socket), con, options.max_line);
}

}  // namespace coronet
