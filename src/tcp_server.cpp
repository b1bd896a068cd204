// tcp_server: the seed's "wait on port 5000 and talk in turns" server, for
// every client at once and in both directions at the same time.
//
//   chat  each client's lines appear here as "[ADDR] text"; lines typed here
//         go to every client ('q' sends q to all and ends their sessions)
//   echo  every line goes back to its sender byte for byte
//   room  each client's line goes to every other client
//
// Try it:   tcp_server --mode chat        and from a second terminal:
//           telnet 127.0.0.1 5000    (or: nc 127.0.0.1 5000, or tcp_client)
//
// The shape: one coroutine accepts; each connection is one coroutine (chat
// and room: a reader and a writer joined with ||); one watchdog coroutine
// watches every connection's idle deadline; in chat mode one more relays
// the operator's lines. What the connections share (the list of clients, the
// console) is touched only on the server's executor, each connection's socket
// only on its own: with several threads both are strands.
//
// A client that reads slowly, or not at all (chat and room): each client's
// queue of outgoing lines has a limit (room_queue). While any queue is over
// it, whoever sends lines to clients (the room's readers, the operator)
// stops reading, so a fast sender goes only as fast as its slowest listener.
// A client whose queue stays over the limit for stall_timeout does not read:
// the watchdog drops it and the others go on. A queue so holds at most
// room_queue bytes plus the lines its senders had already read when it filled.
#include "tcp_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <exception>
#include <memory>
#include <ostream>
#include <tuple>
#include <utility>
#include <vector>

#include "coronet/net.hpp"

namespace coronet {

using namespace asio::experimental::awaitable_operators;
using std::chrono::steady_clock;

namespace {

// Expected errors (EOF, reset, cancellation) come back as values.
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
// The same for the one wait every connection spends its idle life in:
// co_await on a deferred operation suspends without the extra coroutine
// frame use_awaitable builds to start it, which an idle connection would hold.
constexpr auto deferred_tuple = asio::as_tuple(asio::deferred);

using shared_line = std::shared_ptr<const std::string>;  // one line, sent to many clients

// The server's long-running coroutines (accepting, watching, relaying, and a
// sender held back) end when they are cancelled, at shutdown. A cancellation
// that arrives while one of them is between two waits (its timer had fired,
// say) cancels no operation; Asio then throws it from the next co_await. So
// each of their loops asks first whether it was cancelled:
//   if ((co_await asio::this_coro::cancellation_state).cancelled() != ...) co_return;

// Chat and room: the lines waiting for a client's writer, and how it is
// woken. Echo answers from its own loop and has none, so an idle echo
// connection stays small.
struct outgoing_lines {
  explicit outgoing_lines(const asio::any_io_executor& executor) : wake(executor) {}

  std::vector<shared_line> lines;
  std::size_t bytes = 0;
  bool close_when_sent = false;  // the operator typed 'q'
  asio::steady_timer wake;       // the writer waits on it; cancel() wakes it
  // Since when the queue has been over the limit (zero: it is not). Written
  // on the client's executor, read by the watchdog and by senders: atomic.
  std::atomic<steady_clock::rep> full_since{0};
};

// One connection, as the rest of the server reaches it: the list of clients,
// the watchdog and shutdown may queue lines for it or stop it, always on its
// executor. Its session coroutine does the talking.
struct client {
  client(tcp::socket s, std::string peer, bool with_writer)
      : socket(std::move(s)),
        name(std::move(peer)),
        outgoing(with_writer ? std::make_unique<outgoing_lines>(socket.get_executor()) : nullptr) {}

  tcp::socket socket;      // its executor is the client's (a strand of its own with several threads)
  const std::string name;  // "127.0.0.1:54321"
  bool stopped = false;
  // When a complete line last arrived, plus the idle timeout. Written by the
  // session, read by the watchdog on another executor, hence atomic.
  std::atomic<steady_clock::rep> deadline{0};
  const std::unique_ptr<outgoing_lines> outgoing;  // chat and room
  std::size_t place = 0;                           // its index in server::clients (the server's executor)
};

// Whether a client's queue is over the limit, and since when (zero: it is not).
steady_clock::rep full_since(const client& c) {
  return c.outgoing ? c.outgoing->full_since.load() : 0;
}

// What the connections share. Touched only on `executor`.
struct server {
  server(server_options o, coronet::console& c, asio::any_io_executor ex)
      : options(std::move(o)), console(c), executor(std::move(ex)), all_gone(executor) {}

  const server_options options;
  coronet::console& console;
  const asio::any_io_executor executor;
  // Every connected client, in no particular order. Each knows its place, so
  // one leaves by swapping with the last: no search, and no allocation per
  // client beyond the vector's slot.
  std::vector<std::shared_ptr<client>> clients;
  std::atomic<std::size_t> full_queues{0};  // clients whose queue is over the limit
  bool shutting_down = false;
  asio::steady_timer all_gone;  // cancelled when the last client has left after shutdown began
};

// ---------------------------------------------------------------------------
// Small pieces every mode uses
// ---------------------------------------------------------------------------

// A line for the operator's console. Callable from any executor: the console
// is written only on the server's.
void tell_operator(server& s, std::ostream& stream, std::string line) {
  asio::dispatch(s.executor, [&stream, line = std::move(line)] { write_line(stream, line); });
}

void push_deadline(client& c, std::chrono::milliseconds idle_timeout) {
  if (idle_timeout.count() == 0) return;
  c.deadline.store((steady_clock::now() + idle_timeout).time_since_epoch().count(),
                   std::memory_order_relaxed);
}

// The server's last line to a peer: sent only if the kernel takes it now
// (the socket is non-blocking), so a peer that stopped reading is never waited for.
void send_last_line(tcp::socket& socket, std::string_view line) {
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(line), asio::buffer("\n", 1)};
  error_code ignored;
  asio::write(socket, buffers, ignored);
}

// Ends a connection from the server's side; runs on the client's executor.
// Closing the socket completes every operation the session waits in (with
// operation_aborted) and fails any it starts later, so the session ends promptly.
void stop(client& c, std::string_view last_line = {}) {
  if (c.stopped) return;
  c.stopped = true;
  if (!last_line.empty()) send_last_line(c.socket, last_line);
  error_code ignored;
  c.socket.shutdown(tcp::socket::shutdown_both, ignored);
  c.socket.close(ignored);
  if (c.outgoing) c.outgoing->wake.cancel();
}

std::string too_long_message(std::size_t max_line) {
  return "error: line longer than " + std::to_string(max_line) + " bytes";
}

// ---------------------------------------------------------------------------
// Reading and writing, in every mode
// ---------------------------------------------------------------------------

// The socket is non-blocking, so a read takes what has arrived and
// returns at once. Only when nothing has arrived does a session suspend, in
// async_wait for the socket to become readable, which needs no buffer: if
// no line is unfinished it first hands its buffer back (release_if_empty),
// so an idle connection holds none.

// Reads what has arrived into the splitter without waiting: would_block when
// nothing has. `drained` tells the caller to wait before the next read: a
// read that did not fill its space emptied the socket, and another would
// only find nothing.
error_code read_arrived(tcp::socket& socket, line_splitter& splitter, bool& drained) {
  const auto space = splitter.prepare();
  error_code ec;
  const std::size_t n = socket.read_some(asio::buffer(space.data(), space.size()), ec);
  splitter.commit(n);
  drained = n < space.size();
  return ec;
}

// Writes all of `bytes`: straight away if the kernel takes them (the usual
// case), and suspends in async_write only for what it did not take.
asio::awaitable<error_code> write_all(tcp::socket& socket, std::string_view bytes) {
  error_code ec;
  const std::size_t sent = socket.write_some(asio::buffer(bytes), ec);
  if (!ec && sent == bytes.size()) co_return ec;
  if (ec && ec != asio::error::would_block) co_return ec;
  auto [write_error, n] = co_await asio::async_write(socket, asio::buffer(bytes.substr(sent)), use_tuple);
  co_return write_error;
}

// ---------------------------------------------------------------------------
// echo: every line back to its sender
// ---------------------------------------------------------------------------

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

// One connection's whole life. It suspends in two places only, the wait and
// the write, and the work between them is in plain functions: an idle
// connection waits in this frame alone, so what it holds is what every idle
// connection costs.
asio::awaitable<void> echo_lines(client& c, const server_options& options) {
  line_splitter splitter(options.max_line);
  bool drained = false;
  error_code ec;
  while (true) {
    if (drained) {
      if (splitter.pending().empty()) splitter.release_if_empty();
      std::tie(ec) = co_await c.socket.async_wait(tcp::socket::wait_read, deferred_tuple);
      if (ec) co_return;
    }
    echo_batch batch;
    ec = read_arrived(c.socket, splitter, drained);
    if (ec == asio::error::would_block) continue;
    if (ec == asio::error::eof) {
      batch = {splitter.pending(), true};  // half-closed: its unterminated line comes back too
    } else if (ec) {
      co_return;
    } else {
      batch = take_lines(splitter);
    }
    if (!batch.lines.empty()) {
      push_deadline(c, options.idle_timeout);
      ec = co_await write_all(c.socket, batch.lines);
      if (ec) co_return;
    }
    if (batch.last) co_return;
    if (batch.too_long) {
      stop(c, too_long_message(options.max_line));
      co_return;
    }
  }
}

// ---------------------------------------------------------------------------
// chat and room: a reader and a writer per client
// ---------------------------------------------------------------------------

// Marks a client's queue as over the limit or not; runs on the client's executor.
void set_queue_full(server& s, client& c, bool full) {
  const bool was_full = full_since(c) != 0;
  if (full == was_full) return;
  c.outgoing->full_since.store(full ? steady_clock::now().time_since_epoch().count() : 0);
  if (full) {
    ++s.full_queues;
  } else {
    --s.full_queues;
  }
}

// Queues a line for one client; runs on the client's executor.
void enqueue(server& s, client& c, shared_line line) {
  if (c.stopped) return;  // also: `s` may be gone once a client has stopped
  auto& out = *c.outgoing;
  out.bytes += line->size();
  out.lines.push_back(std::move(line));
  out.wake.cancel();
  if (out.bytes > s.options.room_queue) set_queue_full(s, c, true);
}

// True while the queue of a client other than `sender` is over the limit.
bool others_full(const server& s, const client* sender) {
  const std::size_t own = sender != nullptr && full_since(*sender) != 0 ? 1 : 0;
  return s.full_queues.load() > own;
}

// Holds a sender back (see the top of the file) until no other client's queue
// is over the limit. Polls with a short sleep: simpler than a list of waiting
// senders, and free while no queue is full. Suspends in the timer; returns
// false when cancelled (the session or the server ends).
asio::awaitable<bool> wait_while_queues_full(const server& s, const client* sender) {
  asio::steady_timer pause(co_await asio::this_coro::executor);
  while (others_full(s, sender)) {
    if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
      co_return false;
    pause.expires_after(std::chrono::milliseconds(5));
    auto [ec] = co_await pause.async_wait(use_tuple);
    if (ec) co_return false;
  }
  co_return true;
}

// Sends a line to every client but `except`; runs on the server's executor.
void send_to_clients(server& s, const shared_line& line, const client* except = nullptr) {
  for (const auto& c : s.clients) {
    if (c.get() != except) asio::dispatch(c->socket.get_executor(), [&s, c, line] { enqueue(s, *c, line); });
  }
}

// A client's line: on the operator's console (chat) or to everyone else (room).
void deliver(server& s, const std::shared_ptr<client>& from, std::string_view text) {
  std::string line = "[" + from->name + "] ";
  if (s.options.mode == server_mode::chat) {
    append_terminal_safe(line, text);
    tell_operator(s, s.console.out, std::move(line));
  } else {
    line.append(text).push_back('\n');
    asio::dispatch(s.executor, [&s, from, shared = std::make_shared<const std::string>(std::move(line))] {
      send_to_clients(s, shared, from.get());
    });
  }
}

// Reads the client's lines until it says 'q', leaves, or breaks a limit.
// Suspends in the socket's receive; the writer ending cancels it.
asio::awaitable<void> read_lines(std::shared_ptr<client> c, server& s) {
  line_splitter splitter(s.options.max_line);
  bool drained = false;
  while (true) {
    if (others_full(s, c.get())) {
      const bool go_on = co_await wait_while_queues_full(s, c.get());
      if (!go_on) co_return;
    }
    if (drained) {  // as in echo_lines
      if (splitter.pending().empty()) splitter.release_if_empty();
      auto [ec] = co_await c->socket.async_wait(tcp::socket::wait_read, deferred_tuple);
      if (ec) co_return;
    }
    if (const error_code ec = read_arrived(c->socket, splitter, drained)) {
      if (ec == asio::error::would_block) continue;
      if (ec == asio::error::eof && !splitter.pending().empty()) deliver(s, c, splitter.pending());
      co_return;
    }
    for (auto r = splitter.next(); r.what != line_splitter::status::need_more; r = splitter.next()) {
      if (r.what == line_splitter::status::too_long) {
        stop(*c, too_long_message(s.options.max_line));
        co_return;
      }
      push_deadline(*c, s.options.idle_timeout);
      if (is_quit(r.value.text)) co_return;
      deliver(s, c, r.value.text);
    }
  }
}

// Sends what others queued for this client: everything waiting, in one
// gathered write. Suspends in the write or, with nothing to send, on the
// outgoing->wake timer, which enqueue() and stop() cancel; the reader ending
// cancels it too.
asio::awaitable<void> write_queued_lines(client& c, server& s) {
  outgoing_lines& out = *c.outgoing;
  std::vector<shared_line> sending;
  std::vector<asio::const_buffer> buffers;
  while (!c.stopped) {
    if (out.lines.empty()) {
      if (out.close_when_sent) co_return;
      out.wake.expires_at(steady_clock::time_point::max());
      co_await out.wake.async_wait(use_tuple);
      // Woken (operation_aborted) by a new line, or cancelled for good.
      if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
        co_return;
      continue;
    }
    sending.swap(out.lines);
    out.bytes = 0;
    set_queue_full(s, c, false);
    buffers.clear();
    for (const auto& line : sending) buffers.push_back(asio::buffer(*line));
    auto [ec, n] = co_await asio::async_write(c.socket, buffers, use_tuple);
    sending.clear();
    if (ec) co_return;
  }
}

// ---------------------------------------------------------------------------
// The server: accept, watch, relay, shut down
// ---------------------------------------------------------------------------

// Chat and room: whichever ends first (a 'q', EOF, a limit, the operator's
// 'q' sent) cancels the other.
asio::awaitable<void> read_and_write_lines(std::shared_ptr<client> c, server& s) {
  co_await (read_lines(c, s) || write_queued_lines(*c, s));
}

void forget(server& s, const std::shared_ptr<client>& c) {
  auto& last = s.clients.back();
  last->place = c->place;
  std::swap(s.clients[c->place], last);
  s.clients.pop_back();
  if (s.options.verbose || s.options.mode == server_mode::chat)
    write_line(s.console.err, c->name + " disconnected");
  if (s.options.mode == server_mode::room && !s.shutting_down)
    send_to_clients(s, std::make_shared<const std::string>("* " + c->name + " left\n"));
  if (s.shutting_down && s.clients.empty()) s.all_gone.cancel();
}

// Takes a new connection in, or turns it away when the server is full.
// Runs on the server's executor.
void admit(server& s, tcp::socket socket) {
  error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  if (ec) return;  // already gone
  socket.set_option(tcp::no_delay(true), ec);
  socket.non_blocking(true, ec);  // for send_last_line
  if (s.clients.size() >= s.options.max_connections) {
    send_last_line(socket, "error: server full");
    if (s.options.verbose) write_line(s.console.err, format_endpoint(peer) + " turned away: server full");
    socket.shutdown(tcp::socket::shutdown_both, ec);
    return;
  }
  const bool with_writer = s.options.mode != server_mode::echo;
  auto c = std::make_shared<client>(std::move(socket), format_endpoint(peer), with_writer);
  push_deadline(*c, s.options.idle_timeout);
  if (s.options.mode == server_mode::room)
    send_to_clients(s, std::make_shared<const std::string>("* " + c->name + " joined\n"));
  c->place = s.clients.size();
  s.clients.push_back(c);
  if (s.options.verbose || s.options.mode == server_mode::chat)
    write_line(s.console.err, c->name + " connected");
  // One coroutine per connection (echo needs no writer beside it, so no ||
  // and no frame for one). When it ends, its handler closes the socket and
  // takes the client off the list; until then it keeps `c` alive.
  auto session = s.options.mode == server_mode::echo ? echo_lines(*c, s.options) : read_and_write_lines(c, s);
  asio::co_spawn(c->socket.get_executor(), std::move(session), [&s, c](const std::exception_ptr& e) {
    stop(*c);
    if (c->outgoing) set_queue_full(s, *c, false);  // a gone client holds no sender back
    std::string failure;
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        failure = c->name + ": unexpected error: " + x.what();
      }
    }
    asio::dispatch(s.executor, [&s, c, failure] {
      if (!failure.empty()) write_line(s.console.err, failure);
      forget(s, c);
    });
  });
}

// Accepts until cancelled. Suspends in async_accept.
asio::awaitable<void> accept_clients(tcp::acceptor& acceptor, server& s) {
  asio::steady_timer pause(s.executor);
  while (true) {
    if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
      co_return;
    // With several threads each connection runs on a strand of its own: a
    // strand of the io_context's own executor where it is one, rather than
    // of the type-erased any_io_executor, so that a hand-off through the
    // strand does not go through a second layer of type erasure.
    asio::any_io_executor executor = acceptor.get_executor();
    if (s.options.threads > 1) {
      if (const auto* io = executor.target<asio::io_context::executor_type>()) {
        executor = asio::make_strand(*io);
      } else {
        executor = asio::make_strand(executor);
      }
    }
    auto [ec, socket] = co_await acceptor.async_accept(executor, use_tuple);
    if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
      co_return;
    if (ec) {
      // Out of descriptors, say: the listening socket stays ready, so pause
      // instead of spinning, and keep serving those already connected.
      write_line(s.console.err, "accept failed: " + describe(ec));
      pause.expires_after(std::chrono::milliseconds(100));
      co_await pause.async_wait(use_tuple);
      continue;
    }
    admit(s, std::move(socket));
  }
}

// Drops a client whose queue is still over the limit; runs on its executor.
void drop_if_still_full(server& s, client& c) {
  if (c.stopped || full_since(c) == 0) return;
  stop(c);
  tell_operator(s, s.console.err,
                "dropped " + c.name + ": it does not read (over " + std::to_string(s.options.room_queue) +
                    " bytes waiting)");
}

// One coroutine watches every connection's deadlines, instead of a timer per
// connection or per read: it sleeps until the earliest one, then stops the
// clients that have been idle too long or whose queue has stayed full too long.
// A queue may fill while it sleeps, so it sleeps no longer than a quarter of
// stall_timeout. Cancelled at shutdown.
asio::awaitable<void> watch_clients(server& s) {
  const auto idle_timeout = s.options.idle_timeout;
  const auto stall_timeout = s.options.stall_timeout;
  const auto time_point = [](steady_clock::rep count) {
    return steady_clock::time_point{steady_clock::duration{count}};
  };
  asio::steady_timer timer(s.executor);
  while (true) {
    if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
      co_return;
    const auto now = steady_clock::now();
    auto wake = now + stall_timeout / 4;
    for (const auto& c : s.clients) {
      if (idle_timeout.count() != 0) {
        const auto deadline = time_point(c->deadline.load(std::memory_order_relaxed));
        if (deadline <= now) {
          asio::dispatch(c->socket.get_executor(), [c] { stop(*c, "error: idle timeout"); });
        } else {
          wake = std::min(wake, deadline);
        }
      }
      if (const auto since = full_since(*c); since != 0) {
        const auto stall_deadline = time_point(since) + stall_timeout;
        if (stall_deadline <= now) {
          asio::dispatch(c->socket.get_executor(), [&s, c] { drop_if_still_full(s, *c); });
        } else {
          wake = std::min(wake, stall_deadline);
        }
      }
    }
    timer.expires_at(wake);
    auto [ec] = co_await timer.async_wait(use_tuple);
    if (ec) co_return;
  }
}

// Chat mode: what the operator types goes to every client. The end of stdin
// is not a quit (a server started without a terminal keeps serving).
// Suspends in console.input.receive(), or while a client's queue is full;
// cancelled at shutdown.
asio::awaitable<void> relay_operator_lines(server& s) {
  if (s.options.mode != server_mode::chat) co_return;
  while (true) {
    if ((co_await asio::this_coro::cancellation_state).cancelled() != asio::cancellation_type::none)
      co_return;
    if (others_full(s, nullptr)) {
      const bool go_on = co_await wait_while_queues_full(s, nullptr);
      if (!go_on) co_return;
      continue;  // asks again whether it was cancelled meanwhile
    }
    auto [ec, text] = co_await s.console.input.receive();
    if (ec == errc::line_too_long) {
      write_line(s.console.err,
                 "typed line longer than " + std::to_string(s.options.max_line) + " bytes, not sent");
      continue;
    }
    if (ec) co_return;
    if (is_quit(text)) {
      // 'q' goes to everyone, and each session ends once it is sent.
      const auto quit = std::make_shared<const std::string>("q\n");
      for (const auto& c : s.clients) {
        asio::dispatch(c->socket.get_executor(), [c, quit] {
          if (c->stopped) return;
          c->outgoing->bytes += quit->size();
          c->outgoing->lines.push_back(quit);
          c->outgoing->close_when_sent = true;
          c->outgoing->wake.cancel();
        });
      }
      continue;
    }
    send_to_clients(s, std::make_shared<const std::string>(std::move(text) + "\n"));
  }
}

}  // namespace

std::string_view to_string(server_mode mode) noexcept {
  switch (mode) {
    case server_mode::chat:
      return "chat";
    case server_mode::echo:
      return "echo";
    case server_mode::room:
      return "room";
  }
  return "?";
}

std::optional<tcp::acceptor> open_listener(const asio::any_io_executor& executor,
                                           const server_options& options, std::ostream& err) {
  const std::string where = format_host_port(options.listen, options.port);
  const auto fail = [&](const std::string& reason) {
    err << "error: cannot listen on " << where << ": " << reason << '\n';
    return std::nullopt;
  };
  error_code ec;
  const auto address = asio::ip::make_address(options.listen, ec);
  if (ec) return fail("not an IP address (use 127.0.0.1, ::1, 0.0.0.0 or ::)");
  const tcp::endpoint endpoint(address, options.port);
  tcp::acceptor acceptor(executor);
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return fail(describe(ec));
#ifndef _WIN32  // on Windows SO_REUSEADDR would let two servers share the port
  acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
#endif
  acceptor.bind(endpoint, ec);
  if (ec) return fail(describe(ec));
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(describe(ec));
  warn_if_exposed(address, err);
  err << "listening on " << format_endpoint(acceptor.local_endpoint(ec)) << " (" << to_string(options.mode)
      << ")" << std::endl;
  return acceptor;
}

asio::awaitable<void> serve(tcp::acceptor acceptor, server_options options, console& console) {
  const auto executor = co_await asio::this_coro::executor;
  server s(std::move(options), console, executor);
  // Runs until cancelled; each part suspends in its own wait.
  co_await (accept_clients(acceptor, s) && watch_clients(s) && relay_operator_lines(s));

  // Shutting down. The cancellation has done its work; what follows must
  // run to its end, so it must not throw at the next co_await.
  co_await asio::this_coro::reset_cancellation_state();
  error_code ignored;
  acceptor.close(ignored);
  s.shutting_down = true;
  for (const auto& c : s.clients)
    asio::dispatch(c->socket.get_executor(), [c] { stop(*c, "server shutting down"); });
  // The clients' sessions end on their own executors and then leave the list,
  // which lives in this frame: wait for the last one.
  while (!s.clients.empty()) {
    s.all_gone.expires_at(steady_clock::time_point::max());
    co_await s.all_gone.async_wait(use_tuple);
  }
}

}  // namespace coronet
