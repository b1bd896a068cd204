// SPDX-License-Identifier: BSL-1.0
// console_input: typed lines, read from stdin on a thread of their own and
// handed to the program's coroutines through a channel.
#include <boost/asio/error.hpp>

#include <cerrno>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "console_thread.hpp"
#include "coronet/awaitable.hpp"
#include "coronet/console.hpp"
#include "coronet/protocol.hpp"

#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#else
#include <unistd.h>
#endif

namespace coronet {

namespace {

using line_channel = asio::experimental::concurrent_channel<void(error_code, std::string)>;

}  // namespace

// Shared by the program and the stdin thread. The program may exit while the
// thread is still blocked in a read: the channel is then destroyed with the
// program's side (it must not outlive the io_context), and the thread, finding
// it gone, drops what it reads and ends.
//
// The thread waits on `room` while the channel is full. Whoever makes room
// (a receive) or ends the program's side notifies `room` holding `mutex`, the
// mutex under which the thread checks for room before it waits: a
// notification sent without it can fall between that check and the wait, and
// the thread would sleep forever beside an empty channel.
struct console_input::shared_state {
  shared_state(asio::any_io_executor executor, std::size_t max, std::size_t capacity)
      : channel(std::in_place, std::move(executor), capacity), max_line(max) {}

  // Waits for room in the channel, then sends; false once the program has gone.
  bool deliver(error_code ec, const std::string& line) {
    std::unique_lock lock(mutex);
    room.wait(lock, [&] { return !channel || channel->try_send(ec, line); });
    return channel.has_value();
  }

  // A receive has made room: wakes the thread if it waits for some.
  void made_room() {
    const std::scoped_lock lock(mutex);
    room.notify_one();
  }

  std::mutex mutex;
  std::condition_variable room;
  std::optional<line_channel> channel;  // guarded by mutex once the thread runs
  const std::size_t max_line;
  bool terminal = false;  // read_stdin() reads a terminal
};

console_input::console_input(asio::any_io_executor executor, std::size_t max_line, std::size_t capacity)
    : state_(std::make_shared<shared_state>(std::move(executor), max_line, capacity)) {}

console_input::~console_input() {
  stop_delivery();
}

void console_input::stop_delivery() {
  const std::scoped_lock lock(state_->mutex);
  state_->channel.reset();
  state_->room.notify_all();
}

bool console_input::deliver(error_code ec, const std::string& line) {
  return state_->deliver(ec, line);
}

void console_input::set_reads_terminal(bool terminal) noexcept {
  state_->terminal = terminal;
}

std::size_t console_input::max_line() const noexcept {
  return state_->max_line;
}

bool console_input::reads_terminal() const noexcept {
  return state_->terminal;
}

asio::awaitable<std::tuple<error_code, std::string>> console_input::receive() {
  // Suspends until the stdin thread (or a test) sends a line.
  // NOLINTNEXTLINE(bugprone-unchecked-optional-access): engaged from the constructor to ~console_input
  auto result = co_await state_->channel->async_receive(use_nothrow_awaitable);
  state_->made_room();
  co_return result;
}

std::optional<std::tuple<error_code, std::string>> console_input::try_receive() {
  std::optional<std::tuple<error_code, std::string>> item;
  // NOLINTNEXTLINE(bugprone-unchecked-optional-access): engaged from the constructor to ~console_input
  state_->channel->try_receive([&](error_code ec, std::string line) { item.emplace(ec, std::move(line)); });
  if (item) state_->made_room();
  return item;
}

void console_input::push(std::string_view text) {
  std::string line(text);
  line += '\n';
  const std::scoped_lock lock(state_->mutex);
  // NOLINTNEXTLINE(bugprone-unchecked-optional-access): engaged from the constructor to ~console_input
  state_->channel->try_send(error_code{}, std::move(line));
}

void console_input::push_end() {
  const std::scoped_lock lock(state_->mutex);
  // NOLINTNEXTLINE(bugprone-unchecked-optional-access): engaged from the constructor to ~console_input
  state_->channel->try_send(error_code{asio::error::eof}, std::string{});
}

namespace {

// Blocking read of whatever stdin has: a typed line, a pipe's chunk, a file's block.
long read_stdin_some(char* data, std::size_t size) {
#ifdef _WIN32
  return _read(0, data, static_cast<unsigned>(size));
#else
  ssize_t n;
  // No lock is held here: deliver()'s unique_lock is released when it returns. The analyzer
  // enters a critical section three times for that one lock (unique_lock, std::mutex,
  // pthread) and still counts one as held after the release.
  // NOLINTNEXTLINE(clang-analyzer-unix.BlockInCriticalSection): a false positive, as above
  do n = ::read(0, data, size);
  while (n < 0 && errno == EINTR);
  return static_cast<long>(n);
#endif
}

}  // namespace

// The stdin thread: splits what it reads into lines and delivers them.
void console_input::read_stdin_lines(const std::shared_ptr<shared_state>& state) {
  line_splitter splitter(state->max_line, std::size_t{16} * 1024);
  while (true) {
    const auto space = splitter.prepare();
    const long n = read_stdin_some(space.data(), space.size());
    if (n <= 0) break;  // end of input (or an error, which ends it too)
    splitter.commit(static_cast<std::size_t>(n));
    for (auto r = splitter.next(); r.what != line_splitter::status::need_more; r = splitter.next()) {
      if (r.what == line_splitter::status::too_long) {
        splitter.skip_long_line();
        if (!state->deliver(make_error_code(errc::line_too_long), {})) return;
      } else if (!state->deliver({}, std::string(r.value.raw))) {
        return;
      }
    }
  }
  // A last line without its LF still counts as a line.
  if (!splitter.pending().empty() && !state->deliver({}, std::string(splitter.pending()))) return;
  state->deliver(asio::error::eof, {});
}

void console_input::read_stdin() {
  state_->terminal = stdin_is_terminal();
#ifdef _WIN32
  // Bytes as they are: text mode would end a pipe's input at a 0x1A byte.
  // CRLF needs no translation, the splitter takes it as a line ending.
  _setmode(0, _O_BINARY);
#endif
  // The process must be able to exit while the thread waits for a line
  // nobody will type.
  start_console_thread([state = state_] { read_stdin_lines(state); });
}

}  // namespace coronet
