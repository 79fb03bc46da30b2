#include "report/ping_text_sink.h"

#include <sys/socket.h>

#include <cinttypes>

#include "report/overhead_breakdown.h"
#include "util/error.h"

namespace mtool::report {

std::string format_reply_time(std::int64_t t) {
  char buf[64];
  if (t >= 100000 - 50) {
    std::snprintf(buf, sizeof buf, "%" PRId64, (t + 500) / 1000);
  } else if (t >= 10000 - 5) {
    std::snprintf(buf, sizeof buf, "%" PRId64 ".%01" PRId64, (t + 50) / 1000,
                  ((t + 50) % 1000) / 100);
  } else if (t >= 1000) {
    std::snprintf(buf, sizeof buf, "%" PRId64 ".%02" PRId64, (t + 5) / 1000, ((t + 5) % 1000) / 10);
  } else {
    std::snprintf(buf, sizeof buf, "%" PRId64 ".%03" PRId64, t / 1000, t % 1000);
  }
  return buf;
}

std::string format_us_as_ms(std::int64_t us) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%" PRId64 ".%03" PRId64, us / 1000, us % 1000);
  return buf;
}

std::string format_print_timestamp(WallNs wall) {
  char buf[64];
  const std::int64_t ns = raw_ns(wall);
  std::snprintf(buf, sizeof buf, "[%" PRId64 ".%06" PRId64 "] ", ns / kNsPerSec,
                (ns % kNsPerSec) / kNsPerUs);
  return buf;
}

std::string format_loss_percent(long transmitted, long received) {
  const auto loss = static_cast<float>((static_cast<double>(transmitted - received) * 100.0) /
                                       static_cast<double>(transmitted));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(loss));
  return buf;
}

void TextPingSink::timestamp_prefix(WallNs wall) {
  if (options_.print_timestamps) std::fputs(format_print_timestamp(wall).c_str(), out_);
}

void TextPingSink::header(const PingHeader& h) {
  if (h.family == AF_INET6) {
    std::fprintf(out_, "PING %s(%s) ", h.hostname.c_str(), h.address_text.c_str());
    if (h.show_source) std::fprintf(out_, "from %s %s: ", h.source_text.c_str(), h.device.c_str());
    std::fprintf(out_, "%zu data bytes\n", h.datalen);
  } else {
    std::fprintf(out_, "PING %s (%s) ", h.hostname.c_str(), h.address_text.c_str());
    if (h.show_source) std::fprintf(out_, "from %s %s: ", h.source_text.c_str(), h.device.c_str());
    std::fprintf(out_, "%zu(%zu) bytes of data.\n", h.datalen, h.ip_packet_size);
  }
  std::fflush(out_);
}

void TextPingSink::flood_sent() {
  if (!options_.quiet) {
    std::fputc('.', out_);
    std::fflush(out_);
  }
}

void TextPingSink::reply(const PingReply& r) {
  if (options_.quiet) return;
  if (options_.flood) {
    std::fputs(r.bad_checksum ? "\bC" : "\b \b", out_);
    if (options_.audible) std::fputc('\a', out_);
    std::fflush(out_);
    return;
  }
  timestamp_prefix(r.print_time);
  std::fprintf(out_, "%zu bytes from %s: icmp_seq=%u", r.bytes, r.from.c_str(), r.sequence);
  if (r.ttl >= 0) std::fprintf(out_, " ttl=%d", r.ttl);
  if (r.truncated) {
    std::fputs(" (truncated)\n", out_);
    std::fflush(out_);
    return;
  }
  if (r.rtt_us) std::fprintf(out_, " time=%s ms", format_reply_time(*r.rtt_us).c_str());
  if (r.correction) {
    std::fprintf(out_, " corrected=%s ms overhead=%s ms",
                 format_reply_time(r.correction->corrected_us).c_str(),
                 format_reply_time((r.correction->overhead_ns + 500) / 1000).c_str());
  }
  if (r.duplicate) std::fputs(" (DUP!)", out_);
  if (r.bad_checksum) std::fputs(" (BAD CHECKSUM!)", out_);
  if (options_.audible) std::fputc('\a', out_);
  std::fputc('\n', out_);
  if (options_.breakdown && r.correction) print_breakdown(*r.correction);
  std::fflush(out_);
}

void TextPingSink::print_breakdown(const ReplyCorrection& c) {
  for (const auto& line : overhead_breakdown_lines(c.overhead, c.shared_ns)) {
    std::fprintf(out_, "%s\n", line.c_str());
  }
}

void TextPingSink::icmp_error(const PingError& e) {
  if (options_.quiet) return;
  if (options_.flood) {
    std::fputs("\bE", out_);
  } else {
    timestamp_prefix(e.print_time);
    std::fprintf(out_, "From %s icmp_seq=%u %s\n", e.from.c_str(), e.sequence, e.text.c_str());
  }
  std::fflush(out_);
}

void TextPingSink::notice(const PingNotice& n) {
  if (options_.quiet || options_.flood) return;
  timestamp_prefix(n.print_time);
  std::fprintf(out_, "From %s: icmp_seq=%u ", n.from.c_str(), n.sequence);
  if (n.bad_checksum) std::fputs("(BAD CHECKSUM)", out_);
  std::fprintf(out_, "%s\n", n.text.c_str());
  std::fflush(out_);
}

void TextPingSink::local_error(const std::string& text) {
  if (options_.quiet) return;
  if (options_.flood) {
    std::fputc('E', out_);
    std::fflush(out_);
    return;
  }
  print_diagnostic(out_, err_, options_.program, text);
}

void TextPingSink::no_answer_yet(WallNs print_time, std::uint64_t sequence) {
  timestamp_prefix(print_time);
  std::fprintf(out_, "no answer yet for icmp_seq=%" PRIu64 "\n", sequence);
  std::fflush(out_);
}

void TextPingSink::status(const PingStatus& s) {
  const int loss =
      s.transmitted != 0
          ? static_cast<int>((static_cast<long long>(s.transmitted - s.received) * 100) /
                             s.transmitted)
          : 0;
  std::fprintf(err_, "\r%ld/%ld packets, %d%% loss", s.received, s.transmitted, loss);
  if (s.rtt) {
    std::fprintf(err_, ", min/avg/ewma/max = %s/%s/%s/%s ms",
                 format_us_as_ms(s.rtt->min_us).c_str(), format_us_as_ms(s.rtt->avg_us).c_str(),
                 format_us_as_ms(s.ewma_us_x8 / 8).c_str(), format_us_as_ms(s.rtt->max_us).c_str());
  }
  std::fputc('\n', err_);
}

void TextPingSink::print_percentiles(const char* label, const PercentileSummary& p) {
  std::fprintf(out_, "%s p50/p90/p99/p99.9 = %s/%s/%s/%s ms\n", label,
               format_us_as_ms((p.p50_ns + 500) / 1000).c_str(),
               format_us_as_ms((p.p90_ns + 500) / 1000).c_str(),
               format_us_as_ms((p.p99_ns + 500) / 1000).c_str(),
               format_us_as_ms((p.p999_ns + 500) / 1000).c_str());
}

void TextPingSink::summary(const PingSummary& s) {
  std::fputc('\n', out_);
  std::fprintf(out_, "--- %s ping statistics ---\n", s.hostname.c_str());
  std::fprintf(out_, "%ld packets transmitted, %ld received", s.transmitted, s.received);
  if (s.duplicates != 0) std::fprintf(out_, ", +%ld duplicates", s.duplicates);
  if (s.corrupted != 0) std::fprintf(out_, ", +%ld corrupted", s.corrupted);
  if (s.errors != 0) std::fprintf(out_, ", +%ld errors", s.errors);
  if (s.transmitted != 0) {
    std::fprintf(out_, ", %s%% packet loss, time %" PRId64 "ms",
                 format_loss_percent(s.transmitted, s.received).c_str(), s.elapsed_ms);
  }
  std::fputc('\n', out_);
  const char* comma = "";
  if (s.rtt) {
    std::fprintf(out_, "rtt min/avg/max/mdev = %s/%s/%s/%s ms",
                 format_us_as_ms(s.rtt->min_us).c_str(), format_us_as_ms(s.rtt->avg_us).c_str(),
                 format_us_as_ms(s.rtt->max_us).c_str(), format_us_as_ms(s.rtt->mdev_us).c_str());
    comma = ", ";
  }
  if (s.pipe > 1) {
    std::fprintf(out_, "%spipe %d", comma, s.pipe);
    comma = ", ";
  }
  if (s.ipg_us) {
    std::fprintf(out_, "%sipg/ewma %s/%s ms", comma, format_us_as_ms(*s.ipg_us).c_str(),
                 format_us_as_ms(s.ewma_us_x8 / 8).c_str());
  }
  std::fputc('\n', out_);
  if (s.percentiles) print_percentiles("rtt", *s.percentiles);
  if (s.correction) {
    const auto& c = *s.correction;
    if (c.rtt) {
      std::fprintf(out_, "corrected rtt min/avg/max/mdev = %s/%s/%s/%s ms\n",
                   format_us_as_ms(c.rtt->min_us).c_str(), format_us_as_ms(c.rtt->avg_us).c_str(),
                   format_us_as_ms(c.rtt->max_us).c_str(), format_us_as_ms(c.rtt->mdev_us).c_str());
      if (c.percentiles) print_percentiles("corrected rtt", *c.percentiles);
      std::fprintf(out_, "overhead median egress/ingress = %s/%s ms, %ld/%ld replies corrected\n",
                   format_us_as_ms((c.egress_p50_ns + 500) / 1000).c_str(),
                   format_us_as_ms((c.ingress_p50_ns + 500) / 1000).c_str(), c.corrected, c.timed);
    } else if (c.timed != 0) {
      std::fprintf(out_, "0/%ld replies corrected\n", c.timed);
    }
  }
  std::fflush(out_);
}

}  // namespace mtool::report
