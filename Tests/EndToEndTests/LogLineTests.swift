import Foundation
import Logging
import Testing

@testable import postdesk

/// `--log-format`: one line a event, as text or JSON, whatever the message and metadata hold.
@Suite("Log lines")
struct LogLineTests {
    /// Messages a hostile mail or a server could put in a log line.
    static let hostile = [
        "plain", "a \"quoted\" word", "back\\slash \\n not a newline", "two\nlines", "crlf\r\nend", "tab\there",
        "nul \u{0} bell \u{7} escape \u{1B}[31mred\u{1B}[0m del \u{7F} c1 \u{85}", "sep \u{2028} para \u{2029}",
        "日本語の件名 🙂", "", "{\"json\": [1, 2]}", "trailing backslash \\",
    ]

    static func line(_ message: String, metadata: Logger.Metadata = [:]) -> LogLine {
        LogLine(
            time: Date(timeIntervalSince1970: 1_748_779_200.25), level: .warning, label: "postdesk", message: message,
            metadata: metadata, source: "EmailChannel")
    }

    @Test("json: each line is one valid JSON object that gives back exactly what was logged", arguments: hostile)
    func json(message: String) throws {
        let logged = Self.line(message, metadata: ["inbound.id": "7", "odd \"key\"\n": .string(message)])
        let text = logged.json
        #expect(!text.contains("\n") && !text.contains("\r"), "\(text)")
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x2028 || $0.value == 0x2029 })
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not an object: \(text)")
        #expect(object["message"] as? String == message)
        #expect(object["level"] as? String == "warning")
        #expect(object["label"] as? String == "postdesk")
        #expect(object["source"] as? String == "EmailChannel")
        #expect(object["timestamp"] as? String == "2025-06-01T12:00:00.250000Z")
        let metadata = try #require(object["metadata"] as? [String: String])
        #expect(metadata == ["inbound.id": "7", "odd \"key\"\n": message])
    }

    @Test("json: the fields come in a fixed order; metadata values of every kind become strings")
    func jsonShape() throws {
        let text = Self.line(
            "m",
            metadata: ["b": .stringConvertible(42), "a": .array(["x", "y"]), "c": .dictionary(["k": "v"])]
        ).json
        #expect(
            text == #"{"timestamp":"2025-06-01T12:00:00.250000Z","level":"warning","label":"postdesk","message":"m","#
                + #""metadata":{"a":"[\"x\", \"y\"]","b":"42","c":"[\"k\": \"v\"]"},"source":"EmailChannel"}"#)
        #expect(Self.line("m").json.contains(#""metadata":{}"#))
        #expect(LogLine.jsonString("\u{1}\u{1F}\u{8}\u{C}") == #""\u0001\u001f\u0008\u000c""#)
    }

    @Test("text: StreamLogHandler's layout on one line, control characters escaped", arguments: hostile)
    func text(message: String) {
        let text = Self.line(message, metadata: ["request.key": "SD-1", "note": .string(message)]).text
        #expect(!text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
        #expect(!text.unicodeScalars.contains { $0.value == 0x2028 || $0.value == 0x2029 })
        #expect(
            text.wholeMatch(
                of:
                    /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4} warning postdesk: note=.* request.key=SD-1 \[EmailChannel\] .*/
            ) != nil, "\(text)")
        #expect(text.hasSuffix("] " + LogLine.escapedText(message)))
    }

    @Test("text escapes: \\n, \\r, \\t, \\u{…} for the other controls; printable text untouched")
    func textEscapes() {
        #expect(LogLine.escapedText("a\nb\r\tc\u{1B}d\u{2028}") == "a\\nb\\r\\tc\\u{1B}d\\u{2028}")
        #expect(LogLine.escapedText("Grüße \"x\" \\ 🙂") == "Grüße \"x\" \\ 🙂")
    }

    @Test("the UTC timestamp has microseconds, also before 1970 and at a second's edge")
    func timestamps() {
        #expect(LogLine.utcTimestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000000Z")
        #expect(LogLine.utcTimestamp(Date(timeIntervalSince1970: 0.000001)) == "1970-01-01T00:00:00.000001Z")
        #expect(LogLine.utcTimestamp(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500000Z")
        #expect(
            LogLine.utcTimestamp(Date(timeIntervalSince1970: 1_748_779_199.999999)).hasPrefix("2025-06-01T11:59:59.99"))
    }

    @Test("escaping is linear: a megabyte of newlines in one message within a second or so")
    func largeMessage() {
        let message = String(repeating: "\n\"", count: 500_000)
        let started = ContinuousClock.now
        let text = Self.line(message).json
        #expect(text.utf8.count > 2_000_000)
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    /// The lines a handler wrote.
    final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: [String] = []
        func append(_ line: String) { lock.withLock { stored.append(line) } }
        var lines: [String] { lock.withLock { stored } }
    }

    @Test("the handler: level filter, its own, the provider's and the call's metadata, the error, one line each")
    func handler() throws {
        let collected = Collected()
        let output = LogOutput { collected.append($0) }
        var logger = Logger(label: "postdesk") { label in
            PostdeskLogHandler(
                label: label, format: .json, level: .info, output: output,
                metadataProvider: .init { ["trace.id": "t-1"] })
        }
        logger[metadataKey: "mailbox.id"] = "3"
        logger.debug("not written at info")
        logger.info("written\nonce", metadata: ["inbound.id": "9", "mailbox.id": "4"])
        logger.error("failed", error: PostdeskTestError("disk full"))
        let lines = collected.lines
        #expect(lines.count == 2, "\(lines)")
        let first = try #require(
            try JSONSerialization.jsonObject(with: Data((lines.first ?? "").utf8)) as? [String: Any])
        #expect(first["message"] as? String == "written\nonce")
        #expect(first["metadata"] as? [String: String] == ["mailbox.id": "4", "inbound.id": "9", "trace.id": "t-1"])
        #expect(first["source"] as? String == "EndToEndTests")
        let second = try #require(
            try JSONSerialization.jsonObject(with: Data((lines.last ?? "").utf8)) as? [String: Any])
        let metadata = try #require(second["metadata"] as? [String: String])
        #expect(metadata["error.message"] == "disk full")
        #expect(second["level"] as? String == "error")

        var text = PostdeskLogHandler(label: "postdesk", format: .text, level: .trace, output: output)
        text[metadataKey: "k"] = "v"
        #expect(text[metadataKey: "k"] == "v")
        text.log(
            event: LogEvent(
                level: .notice, message: "a\nb", metadata: nil, source: "X", file: #fileID, function: #function,
                line: #line))
        #expect(collected.lines.last?.hasSuffix(" notice postdesk: k=v [X] a\\nb") == true, "\(collected.lines)")
    }
}
