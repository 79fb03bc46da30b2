#include "campaign/echo_channel.h"

namespace mtool::campaign {

EchoChannel::Sent EchoChannel::send(const net::IpAddress& destination, std::size_t datalen,
                                    SequenceOwners::Owner owner) {
  const std::uint16_t sequence = owners_.next_free();
  const int error = endpoint_->send_echo_to(destination, datalen, sequence, ++sends_);
  if (error == 0) owners_.claim(sequence, owner);
  return Sent{sequence, error};
}

void EchoChannel::release(const std::vector<std::uint16_t>& sequences) {
  for (const std::uint16_t s : sequences) owners_.release(s);
}

}  // namespace mtool::campaign
