// SPDX-License-Identifier: BSL-1.0
// How long an in-process test may run before it counts as hung. The tests
// give io_context::run_for() a generous deadline so that a hang fails one test
// instead of the whole run. Under valgrind everything runs 20-50 times slower:
// scripts/memcheck sets CORONET_TEST_TIME_SCALE (10) and these deadlines
// stretch by that factor. Only the hang deadlines stretch; the timeouts the
// tests give the programs (idle, stall, retries) stay as they are.
#pragma once

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <string_view>

namespace coronet::testing {

// CORONET_TEST_TIME_SCALE as a whole number from 1 up; 1 when unset or not one.
inline int time_scale() {
  static const int scale = [] {
    const char* text = std::getenv("CORONET_TEST_TIME_SCALE");
    if (text == nullptr) return 1;
    const std::string_view digits(text);
    int value = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc{} || end != digits.data() + digits.size() || value < 1) return 1;
    return value;
  }();
  return scale;
}

// A hang deadline, stretched under valgrind.
inline std::chrono::milliseconds hang_deadline(std::chrono::milliseconds normal) {
  return normal * time_scale();
}

}  // namespace coronet::testing
