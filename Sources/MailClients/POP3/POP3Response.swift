/// One POP3 response: its status line and, for a positive multi-line answer, the dot-unstuffed body
/// (RFC 1939 §3).
public struct POP3Response: Sendable, Hashable, CustomStringConvertible {
    /// The status indicator that starts the response.
    public enum Status: Sendable, Hashable {
        /// `+OK`
        case ok
        /// `-ERR`
        case err
        /// `+ ` — a SASL challenge during AUTH (RFC 5034 §4).
        case continuation
    }

    /// The status indicator.
    public var status: Status
    /// The text after the status indicator and its space, verbatim (may be empty).
    public var text: String
    /// For a multi-line response: the lines between the status line and the final ".", each ending in CRLF,
    /// with byte-stuffing removed. `nil` for single-line responses.
    public var body: [UInt8]?

    /// Creates a response.
    public init(status: Status, text: String, body: [UInt8]? = nil) {
        self.status = status
        self.text = text
        self.body = body
    }

    /// The status line as the server sent it, e.g. `-ERR [IN-USE] Mailbox is locked`: what an admin should see.
    public var statusLine: String {
        let indicator =
            switch status {
            case .ok: "+OK"
            case .err: "-ERR"
            case .continuation: "+"
            }
        return text.isEmpty ? indicator : "\(indicator) \(text)"
    }

    /// The RFC 2449 §8 response code at the start of the text, e.g. `LOGIN-DELAY`, `IN-USE`, `SYS/TEMP`,
    /// `SYS/PERM`, `AUTH` (RFC 3206); `nil` when there is none.
    public var responseCode: String? { Self.responseCode(in: text) }

    /// The APOP timestamp `<…>` in a greeting (RFC 1939 §7), including the angle brackets; `nil` when the
    /// server does not offer APOP.
    public var apopTimestamp: String? {
        // RFC 1939 §7: the timestamp has the syntax of a msg-id (RFC 822): "<" addr-spec ">".
        guard status == .ok, let open = text.firstIndex(of: "<"),
            let close = text[open...].firstIndex(of: ">")
        else { return nil }
        let timestamp = text[open...close]
        guard timestamp.contains("@"), !timestamp.contains(" "), timestamp.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { return nil }
        return String(timestamp)
    }

    /// The status line, and the body size when there is one (never the body itself).
    public var description: String {
        body.map { "\(statusLine) (+\($0.count) bytes)" } ?? statusLine
    }

    // RFC 2449 §9:
    // resp-code  = "[" resp-level *("/" resp-level) "]"
    // resp-level = 1*rchar
    // rchar      = %x21-2E / %x30-5C / %x5E-7F   ; printable ASCII, excluding "/" and "]"
    /// Reads the response code from the start of a status line's text (with or without the `+OK `/`-ERR `
    /// prefix), e.g. `[SYS/TEMP] try later` → `SYS/TEMP`. Public so that callers can read it back from a
    /// `MailClientError.serverText`.
    public static func responseCode(in text: String) -> String? {
        var bytes = Substring(text).utf8[...]
        for prefix in ["-ERR ", "+OK "] where text.hasPrefix(prefix) { bytes = bytes.dropFirst(prefix.utf8.count) }
        guard bytes.first == UInt8(ascii: "["), let close = bytes.firstIndex(of: UInt8(ascii: "]")) else {
            return nil
        }
        let inner = bytes[bytes.index(after: bytes.startIndex)..<close]
        let levels = inner.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        let valid = levels.allSatisfy { level in
            !level.isEmpty && level.allSatisfy { $0 >= 0x21 && $0 <= 0x7F && $0 != UInt8(ascii: "/") }
        }
        return valid ? String(decoding: inner, as: UTF8.self) : nil
    }
}
