// SPDX-License-Identifier: BSL-1.0
// How an exercise's test sets the option the learner is to add, so that the
// test compiles before the option exists and then fails, saying what to add.
#pragma once

// ws_set_option(options, member, value): sets `options.member = value` and is
// true once the learner has added `member`; false, setting nothing, while it
// does not exist yet. A macro, as a member's name cannot be passed to a
// function; the generic lambda asks `requires` of a template parameter, which
// is what lets the test compile either way.
#define WS_SET_OPTION(options, member, value)         \
  [&]<class Options>(Options& o) {                    \
    if constexpr (requires { o.member = (value); }) { \
      o.member = (value);                             \
      return true;                                    \
    } else {                                          \
      return false;                                   \
    }                                                 \
  }(options)
