// SPDX-License-Identifier: BSL-1.0
// console_output: a program's stdout or stderr, written by a thread of its
// own so that a console that stops reading never stops the program.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <ios>
#include <memory>
#include <mutex>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>
#include <utility>

#include <sys/stat.h>
#include <sys/types.h>

#include "console_thread.hpp"
#include "coronet/console.hpp"

#ifdef _WIN32
#include <io.h>
#else
#include <unistd.h>
#endif

namespace coronet {

namespace {

// Blocking write of all of `bytes`; false when the console has gone (EPIPE, say).
bool write_all_to(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
#ifdef _WIN32
    const int n =
        _write(fd, bytes.data(), static_cast<unsigned>(std::min<std::size_t>(bytes.size(), 1 << 20)));
#else
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
#endif
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// What the program and the writer thread share. The thread holds it too, so
// it may outlive the stream while it is blocked in a write at exit.
struct console_output_queue {
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::string> chunks;  // flushed, not yet written
  std::size_t bytes = 0;           // in chunks
  bool writing = false;            // the thread holds a chunk it took out
  bool gone = false;               // the console is closed: nothing more is written
  std::size_t missed_lines = 0;    // dropped since the console last had room

  void push(std::string chunk) {
    bytes += chunk.size();
    chunks.push_back(std::move(chunk));
  }

  // Queues the "(N lines not shown ...)" line, if lines were dropped. Every
  // chunk already queued was flushed before those lines (a flush that fits
  // queues the notice first), so it goes last. Called with mutex held.
  void push_missed_notice() {
    if (missed_lines == 0) return;
    // Appended piece by piece: GCC 12 at -O2 warns (-Wrestrict) about
    // "(" + std::to_string(n), wrongly.
    std::string notice = "(";
    notice += std::to_string(missed_lines);
    notice += " lines not shown: the console was not reading)\n";
    missed_lines = 0;
    push(std::move(notice));
  }
};

// Whether a write to fd can only ever wait for the disk, never for a reader:
// a regular file, or a device that is not a terminal (/dev/null, NUL).
bool always_reads(int fd) {
#ifdef _WIN32
  struct _stat64 st {};
  if (_fstat64(fd, &st) != 0) return false;
  return (st.st_mode & _S_IFREG) != 0 || ((st.st_mode & _S_IFCHR) != 0 && _isatty(fd) == 0);
#else
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  return S_ISREG(st.st_mode) || (S_ISCHR(st.st_mode) && ::isatty(fd) == 0);
#endif
}

}  // namespace

class console_output::buffer : public std::streambuf {
 public:
  // A file takes every line at once: it is written directly, and nothing is
  // ever dropped. A terminal or a pipe may stop reading: it gets the writer thread.
  buffer(int fd, std::size_t limit, std::chrono::milliseconds drain_time)
      : queue_(std::make_shared<console_output_queue>()),
        fd_(fd),
        direct_(always_reads(fd)),
        limit_(limit),
        drain_time_(drain_time) {
    if (!direct_) start_console_thread([queue = queue_, fd] { write_until_gone(*queue, fd); });
  }

  ~buffer() override {
    buffer::sync();  // this class's own: a destructor never dispatches further
    if (direct_) return;
    // Gives what is queued a short while to reach the console, no more; the
    // count of dropped lines is said at the end if nothing said it before.
    std::unique_lock lock(queue_->mutex);
    if (!queue_->gone) queue_->push_missed_notice();
    queue_->changed.notify_all();
    queue_->changed.wait_for(lock, drain_time_,
                             [&] { return queue_->gone || (queue_->chunks.empty() && !queue_->writing); });
  }

 protected:
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) pending_.push_back(traits_type::to_char_type(c));
    return traits_type::not_eof(c);
  }

  std::streamsize xsputn(const char* data, std::streamsize size) override {
    pending_.append(data, static_cast<std::size_t>(size));
    return size;
  }

  // A flush: the chunk goes to the writer thread, or is counted as missed.
  int sync() override {
    if (pending_.empty()) return 0;
    if (direct_) {
      if (!queue_->gone && !write_all_to(fd_, pending_)) queue_->gone = true;
      pending_.clear();
      return 0;
    }
    std::string chunk = std::exchange(pending_, {});
    {
      const std::scoped_lock lock(queue_->mutex);
      if (queue_->gone) return 0;
      // Room for it: the queue is empty (a flush larger than the limit is
      // not dropped whole while the console keeps up), or it fits.
      if (!queue_->chunks.empty() && queue_->bytes + chunk.size() > limit_) {
        queue_->missed_lines += std::max<std::size_t>(1, std::count(chunk.begin(), chunk.end(), '\n'));
        return 0;
      }
      queue_->push_missed_notice();
      queue_->push(std::move(chunk));
    }
    queue_->changed.notify_all();
    return 0;
  }

 private:
  // The writer thread: takes each chunk in turn and writes it, blocking as
  // long as the console makes it; ends when the console is gone. Once the
  // console has taken everything queued, it says what was dropped meanwhile,
  // without waiting for the program's next line, which may never come.
  static void write_until_gone(console_output_queue& queue, int fd) {
    std::unique_lock lock(queue.mutex);
    while (true) {
      queue.changed.wait(lock, [&] { return !queue.chunks.empty(); });
      const std::string chunk = std::move(queue.chunks.front());
      queue.chunks.pop_front();
      queue.writing = true;
      lock.unlock();
      const bool written = write_all_to(fd, chunk);
      lock.lock();
      queue.bytes -= chunk.size();
      queue.writing = false;
      if (!written) {
        queue.gone = true;
        queue.chunks.clear();
        queue.bytes = 0;
      } else if (queue.chunks.empty()) {
        queue.push_missed_notice();
      }
      queue.changed.notify_all();
      if (!written) return;
    }
  }

  std::shared_ptr<console_output_queue> queue_;
  const int fd_;
  const bool direct_;    // fd is a file: written by sync() itself
  std::string pending_;  // written since the last flush
  const std::size_t limit_;
  const std::chrono::milliseconds drain_time_;
};

console_output::console_output(int fd, std::size_t limit, std::chrono::milliseconds drain_time)
    : std::ostream(nullptr), buffer_(std::make_unique<buffer>(fd, limit, drain_time)) {
  rdbuf(buffer_.get());
}

console_output::~console_output() {
  rdbuf(nullptr);
}

bool is_terminal(int fd) noexcept {
#ifdef _WIN32
  return _isatty(fd) != 0;
#else
  return ::isatty(fd) != 0;
#endif
}

void write_line(std::ostream& stream, std::string_view line) {
  stream << line << '\n';
  stream.flush();
}

}  // namespace coronet
