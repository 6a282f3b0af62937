import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One log event as the one line `postdesk serve` writes for it, in either `LogFormat`. Whatever a message or a
/// metadata value holds (a hostile subject's newlines, quotes, terminal escapes), the line stays one line.
struct LogLine: Sendable {
    var time: Date
    var level: Logger.Level
    var label: String
    var message: String
    var metadata: Logger.Metadata
    var source: String

    /// The line in `format`, without its line end.
    func formatted(_ format: LogFormat) -> String {
        switch format {
        case .text: text
        case .json: json
        }
    }

    /// swift-log's StreamLogHandler layout (local time, metadata sorted by key), control characters escaped.
    var text: String {
        var line = Self.localTimestamp(time) + " \(level)" + (label.isEmpty ? "" : " ") + Self.escapedText(label) + ":"
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            line += " " + Self.escapedText(key) + "=" + Self.escapedText("\(value)")
        }
        return line + " [" + Self.escapedText(source) + "] " + Self.escapedText(message)
    }

    /// `{"timestamp":…,"level":…,"label":…,"message":…,"metadata":{…},"source":…}`: the time in UTC with
    /// microseconds, every metadata value as a string.
    var json: String {
        var line = "{\"timestamp\":\"" + Self.utcTimestamp(time) + "\",\"level\":" + Self.jsonString(level.rawValue)
        line += ",\"label\":" + Self.jsonString(label) + ",\"message\":" + Self.jsonString(message) + ",\"metadata\":{"
        for (index, (key, value)) in metadata.sorted(by: { $0.key < $1.key }).enumerated() {
            line += (index == 0 ? "" : ",") + Self.jsonString(key) + ":" + Self.jsonString("\(value)")
        }
        return line + "},\"source\":" + Self.jsonString(source) + "}"
    }

    /// `text` with line breaks, tabs and other control characters written as escapes (`\n`, `\u{1B}`), so that it
    /// stays on one line and sends no terminal control sequence.
    static func escapedText(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        return escaped(text, json: false)
    }

    /// `text` as a JSON string with its quotes (RFC 8259 §7): `"` and `\` escaped, and every control character, so
    /// the line stays one line; also U+2028 and U+2029, which some readers take for line ends.
    static func jsonString(_ text: String) -> String {
        "\"" + escaped(text, json: true) + "\""
    }

    /// One pass over the scalars into UTF-8 bytes: linear whatever the text holds.
    private static func escaped(_ text: String, json: Bool) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 16)
        func add(_ ascii: String) { bytes.append(contentsOf: ascii.utf8) }
        for scalar in text.unicodeScalars {
            let value = scalar.value
            switch value {
            case 0x22 where json: add("\\\"")
            case 0x5C where json: add("\\\\")
            case 0x0A: add("\\n")
            case 0x0D: add("\\r")
            case 0x09: add("\\t")
            case _ where needsEscape(scalar):
                let hex = String(value, radix: 16, uppercase: !json)
                add(json ? "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex : "\\u{" + hex + "}")
            case 0..<0x80:
                bytes.append(UInt8(value))
            case 0x80..<0x800:
                bytes.append(contentsOf: [UInt8(0xC0 | value >> 6), UInt8(0x80 | value & 0x3F)])
            case 0x800..<0x10000:
                bytes.append(contentsOf: [
                    UInt8(0xE0 | value >> 12), UInt8(0x80 | value >> 6 & 0x3F), UInt8(0x80 | value & 0x3F),
                ])
            default:
                bytes.append(contentsOf: [
                    UInt8(0xF0 | value >> 18), UInt8(0x80 | value >> 12 & 0x3F), UInt8(0x80 | value >> 6 & 0x3F),
                    UInt8(0x80 | value & 0x3F),
                ])
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }

    /// `2025-06-01T12:00:00.123456Z`.
    static func utcTimestamp(_ time: Date) -> String {
        let (seconds, micros) = split(time)
        var clock = time_t(seconds)
        var parts = tm()
        gmtime_r(&clock, &parts)
        return format(parts, "%Y-%m-%dT%H:%M:%S") + "." + String(format: "%06d", micros) + "Z"
    }

    /// `2025-06-01T21:00:00+0900`, as StreamLogHandler writes it.
    static func localTimestamp(_ time: Date) -> String {
        var clock = time_t(split(time).seconds)
        var parts = tm()
        localtime_r(&clock, &parts)
        return format(parts, "%Y-%m-%dT%H:%M:%S%z")
    }

    private static func split(_ time: Date) -> (seconds: Int, micros: Int) {
        let total = Int((time.timeIntervalSince1970 * 1_000_000).rounded())
        let seconds = total >= 0 ? total / 1_000_000 : (total - 999_999) / 1_000_000
        return (seconds, total - seconds * 1_000_000)
    }

    private static func format(_ parts: tm, _ pattern: String) -> String {
        var parts = parts
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, pattern, &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
