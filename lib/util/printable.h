#pragma once
// Text from outside (a list, a file name) made safe to quote in a message on a terminal:
// control characters (C0, DEL, and C1 as UTF-8) are written as escapes, never sent raw.
#include <optional>
#include <string>
#include <string_view>

namespace mtool {

// `text` with each C0 control byte and DEL as \xNN and each C1 control (U+0080..U+009F, as
// UTF-8) as \u00NN; everything else as it is.
std::string printable(std::string_view text);

// 'text' in single quotes, printable(): how a message quotes text from outside. Appended piece
// by piece (GCC 12's -Wrestrict misfires at -O3 on "'" + string).
std::string quoted(std::string_view text);

// The escape (as printable() writes it) of the first control character in `text`, if any.
std::optional<std::string> first_control_character(std::string_view text);

}  // namespace mtool
