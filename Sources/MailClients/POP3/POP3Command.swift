import NIOCore

/// One POP3 client command (RFC 1939, RFC 2449, RFC 2595, RFC 5034), encoded by `encode(into:)`.
public enum POP3Command: Sendable, Hashable, CustomStringConvertible {
    /// `CAPA` (RFC 2449 §5).
    case capa
    /// `STLS` (RFC 2595 §4).
    case stls
    /// `USER name` (RFC 1939 §7).
    case user(String)
    /// `PASS string` (RFC 1939 §7).
    case pass(String)
    /// `APOP name digest` (RFC 1939 §7).
    case apop(name: String, digest: String)
    /// `AUTH PLAIN <initial response>` (RFC 5034 §4, RFC 4616).
    case authPlain(initialResponse: String)
    /// `AUTH XOAUTH2 [<initial response>]`: OAuth 2.0 access token (RFC 5034 §4; Google's and Microsoft's XOAUTH2).
    /// Without an initial response the server asks with an empty `+ ` challenge.
    case authXOAuth2(initialResponse: String?)
    /// `AUTH OAUTHBEARER [<initial response>]`: OAuth 2.0 access token (RFC 5034 §4, RFC 7628 §3.1).
    /// Without an initial response the server asks with an empty `+ ` challenge.
    case authOAuthBearer(initialResponse: String?)
    /// `AUTH LOGIN` (RFC 5034 §4 with the SASL LOGIN mechanism): the user name and password answer
    /// two `+ ` challenges, each in base64.
    case authLogin
    /// One base64 line answering a `+ ` challenge (RFC 5034 §4); empty to answer an error challenge.
    case authResponse(String)
    /// `STAT` (RFC 1939 §5).
    case stat
    /// `LIST` or `LIST n` (RFC 1939 §5).
    case list(Int?)
    /// `UIDL` or `UIDL n` (RFC 1939 §7).
    case uidl(Int?)
    /// `RETR n` (RFC 1939 §5).
    case retr(Int)
    /// `TOP n lines` (RFC 1939 §7).
    case top(Int, lines: Int)
    /// `DELE n` (RFC 1939 §5).
    case dele(Int)
    /// `RSET` (RFC 1939 §5).
    case rset
    /// `NOOP` (RFC 1939 §5).
    case noop
    /// `QUIT` (RFC 1939 §5, §6).
    case quit

    /// Whether a positive answer carries a dot-terminated body.
    var responseShape: POP3ResponseDecoder.Shape {
        switch self {
        case .capa, .list(.none), .uidl(.none), .retr, .top: .multiLine
        default: .singleLine
        }
    }

    /// A log-safe rendering: no user names, passwords or digests.
    public var description: String {
        switch self {
        case .capa: "CAPA"
        case .stls: "STLS"
        case .user: "USER"
        case .pass: "PASS <redacted>"
        case .apop: "APOP <redacted>"
        case .authPlain: "AUTH PLAIN <redacted>"
        case .authXOAuth2: "AUTH XOAUTH2 <redacted>"
        case .authOAuthBearer: "AUTH OAUTHBEARER <redacted>"
        case .authLogin: "AUTH LOGIN"
        case .authResponse: "<redacted auth response>"
        case .stat: "STAT"
        case .list(let number): number.map { "LIST \($0)" } ?? "LIST"
        case .uidl(let number): number.map { "UIDL \($0)" } ?? "UIDL"
        case .retr(let number): "RETR \(number)"
        case .top(let number, let lines): "TOP \(number) \(lines)"
        case .dele(let number): "DELE \(number)"
        case .rset: "RSET"
        case .noop: "NOOP"
        case .quit: "QUIT"
        }
    }

    // command = keyword *(SP argument) CRLF      (RFC 1939 §3, RFC 2449 §9)
    /// Writes the command's wire form, CRLF included. Throws `.protocolViolation` for an argument that would
    /// break the line (CR, LF, NUL; spaces in a name) or a message number below 1: no injection.
    public func encode(into buffer: inout ByteBuffer) throws {
        switch self {
        case .capa: buffer.writeString("CAPA\r\n")
        case .stls: buffer.writeString("STLS\r\n")
        case .user(let name):
            try Self.validate(name, what: "user name", allowSpace: false)
            buffer.writeString("USER \(name)\r\n")
        case .pass(let password):
            // RFC 1939 §7: the password is the rest of the line, so spaces are allowed.
            try Self.validate(password, what: "password", allowSpace: true)
            buffer.writeString("PASS \(password)\r\n")
        case .apop(let name, let digest):
            try Self.validate(name, what: "user name", allowSpace: false)
            try Self.validate(digest, what: "digest", allowSpace: false)
            buffer.writeString("APOP \(name) \(digest)\r\n")
        case .authPlain(let initialResponse):
            try Self.validateBase64(initialResponse)
            // RFC 5034 §4: an empty initial response is sent as "=".
            buffer.writeString("AUTH PLAIN \(initialResponse.isEmpty ? "=" : initialResponse)\r\n")
        case .authXOAuth2(let initialResponse):
            try Self.encodeAuth("XOAUTH2", initialResponse, into: &buffer)
        case .authOAuthBearer(let initialResponse):
            try Self.encodeAuth("OAUTHBEARER", initialResponse, into: &buffer)
        case .authLogin: buffer.writeString("AUTH LOGIN\r\n")
        case .authResponse(let response):
            try Self.validateBase64(response)
            buffer.writeString("\(response)\r\n")
        case .stat: buffer.writeString("STAT\r\n")
        case .list(let number):
            try Self.validate(number)
            buffer.writeString(number.map { "LIST \($0)\r\n" } ?? "LIST\r\n")
        case .uidl(let number):
            try Self.validate(number)
            buffer.writeString(number.map { "UIDL \($0)\r\n" } ?? "UIDL\r\n")
        case .retr(let number):
            try Self.validate(number)
            buffer.writeString("RETR \(number)\r\n")
        case .top(let number, let lines):
            try Self.validate(number)
            guard lines >= 0 else { throw MailClientError(.protocolViolation, "TOP needs a line count of 0 or more") }
            buffer.writeString("TOP \(number) \(lines)\r\n")
        case .dele(let number):
            try Self.validate(number)
            buffer.writeString("DELE \(number)\r\n")
        case .rset: buffer.writeString("RSET\r\n")
        case .noop: buffer.writeString("NOOP\r\n")
        case .quit: buffer.writeString("QUIT\r\n")
        }
    }

    private static func encodeAuth(_ mechanism: String, _ initialResponse: String?, into buffer: inout ByteBuffer)
        throws
    {
        if let initialResponse {
            try Self.validateBase64(initialResponse)
            buffer.writeString("AUTH \(mechanism) \(initialResponse)\r\n")
        } else {
            buffer.writeString("AUTH \(mechanism)\r\n")
        }
    }

    private static func validate(_ text: String, what: String, allowSpace: Bool) throws {
        let bad =
            text.isEmpty || text.utf8.count > 1000
            || text.utf8.contains { $0 < 0x20 || $0 == 0x7F || (!allowSpace && $0 == 0x20) }
        if bad {
            throw MailClientError(
                .protocolViolation,
                "the \(what) must be non-empty and must not contain CR, LF or other control characters"
                    + (allowSpace ? "" : " or spaces")
            )
        }
    }

    private static func validate(_ number: Int?) throws {
        if let number, number < 1 {
            throw MailClientError(.protocolViolation, "POP3 message numbers start at 1 (RFC 1939 §5)")
        }
    }

    private static func validateBase64(_ text: String) throws {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=".utf8)
        guard text.utf8.allSatisfy({ allowed.contains($0) }) else {
            throw MailClientError(.protocolViolation, "an AUTH response must be base64")
        }
    }
}
