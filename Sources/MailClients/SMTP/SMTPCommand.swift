import NIOCore

/// One client command (or the message content after DATA), encoded by `encode(into:)`.
public enum SMTPCommand: Sendable, Hashable, CustomStringConvertible {
    /// `EHLO domain` (RFC 5321 §4.1.1.1).
    case ehlo(String)
    /// `HELO domain`, the fallback when EHLO is refused with 500/502 (RFC 5321 §3.2).
    case helo(String)
    /// `STARTTLS` (RFC 3207 §4).
    case startTLS
    /// `AUTH PLAIN <initial response>` (RFC 4954 §4, RFC 4616).
    case authPlain(initialResponse: String)
    /// `AUTH LOGIN`; the server then asks for user name and password with 334 (draft-murchison-sasl-login).
    case authLogin
    /// `AUTH XOAUTH2 <initial response>`: an OAuth 2.0 access token (RFC 4954 §4; Google's and Microsoft's XOAUTH2).
    case authXOAuth2(initialResponse: String)
    /// `AUTH OAUTHBEARER <initial response>`: an OAuth 2.0 access token (RFC 4954 §4, RFC 7628 §3.1).
    case authOAuthBearer(initialResponse: String)
    /// One base64 line answering a 334 challenge (RFC 4954 §4); empty to answer an error challenge.
    case authResponse(String)
    /// `MAIL FROM:<path>` with the ESMTP parameters the server offered (RFC 5321 §4.1.1.2).
    case mailFrom(String, parameters: SMTPMailParameters)
    /// `RCPT TO:<path>` (RFC 5321 §4.1.1.3).
    case rcptTo(String)
    /// `DATA` (RFC 5321 §4.1.1.4).
    case data
    /// The message after a 354 reply: CRLF-normalised, dot-stuffed, ended by `.` (RFC 5321 §4.5.2).
    case messageContent([UInt8])
    /// `RSET` (RFC 5321 §4.1.1.5).
    case reset
    /// `NOOP` (RFC 5321 §4.1.1.9).
    case noop
    /// `QUIT` (RFC 5321 §4.1.1.10).
    case quit

    /// A log-safe rendering: no credentials, no addresses, no message content.
    public var description: String {
        switch self {
        case .ehlo: "EHLO"
        case .helo: "HELO"
        case .startTLS: "STARTTLS"
        case .authPlain: "AUTH PLAIN <redacted>"
        case .authLogin: "AUTH LOGIN"
        case .authXOAuth2: "AUTH XOAUTH2 <redacted>"
        case .authOAuthBearer: "AUTH OAUTHBEARER <redacted>"
        case .authResponse: "<redacted auth response>"
        case .mailFrom: "MAIL FROM"
        case .rcptTo: "RCPT TO"
        case .data: "DATA"
        case .messageContent(let bytes): "<message content, \(bytes.count) bytes>"
        case .reset: "RSET"
        case .noop: "NOOP"
        case .quit: "QUIT"
        }
    }

    /// Writes the command's wire form, CRLF included. Throws `.protocolViolation` for a domain or address
    /// that would break the command line (CR, LF, NUL, controls, spaces, angle brackets): no injection.
    public func encode(into buffer: inout ByteBuffer) throws {
        switch self {
        case .ehlo(let domain):
            try Self.validateDomain(domain)
            buffer.writeString("EHLO \(domain)\r\n")
        case .helo(let domain):
            try Self.validateDomain(domain)
            buffer.writeString("HELO \(domain)\r\n")
        case .startTLS:
            buffer.writeString("STARTTLS\r\n")
        case .authPlain(let initialResponse):
            try Self.validateBase64(initialResponse)
            // RFC 4954 §4: an empty initial response is sent as "=".
            buffer.writeString("AUTH PLAIN \(initialResponse.isEmpty ? "=" : initialResponse)\r\n")
        case .authLogin:
            buffer.writeString("AUTH LOGIN\r\n")
        case .authXOAuth2(let initialResponse):
            try Self.validateBase64(initialResponse)
            buffer.writeString("AUTH XOAUTH2 \(initialResponse)\r\n")
        case .authOAuthBearer(let initialResponse):
            try Self.validateBase64(initialResponse)
            buffer.writeString("AUTH OAUTHBEARER \(initialResponse)\r\n")
        case .authResponse(let response):
            try Self.validateBase64(response)
            buffer.writeString("\(response)\r\n")
        case .mailFrom(let path, let parameters):
            // Mail-from = "MAIL FROM:" Reverse-path [SP Mail-parameters] CRLF
            // Reverse-path = Path / "<>"
            if !path.isEmpty { try Self.validatePath(path) }
            buffer.writeString("MAIL FROM:<\(path)>")
            if let size = parameters.size { buffer.writeString(" SIZE=\(size)") }  // RFC 1870 §6
            if parameters.eightBitMIME { buffer.writeString(" BODY=8BITMIME") }  // RFC 6152 §2
            if parameters.smtpUTF8 { buffer.writeString(" SMTPUTF8") }  // RFC 6531 §3.4
            buffer.writeString("\r\n")
        case .rcptTo(let path):
            // Rcpt = "RCPT TO:" ( "<Postmaster@" Domain ">" / "<Postmaster>" / Forward-path ) [SP Rcpt-parameters] CRLF
            try Self.validatePath(path)
            buffer.writeString("RCPT TO:<\(path)>\r\n")
        case .data:
            buffer.writeString("DATA\r\n")
        case .messageContent(let message):
            SMTPMessageContent.encode(message, into: &buffer)
        case .reset:
            buffer.writeString("RSET\r\n")
        case .noop:
            buffer.writeString("NOOP\r\n")
        case .quit:
            buffer.writeString("QUIT\r\n")
        }
    }

    /// Path = "<" [ A-d-l ":" ] Mailbox ">" — we only send the Mailbox; RFC 5321 §4.5.3.1.3 caps a path
    /// at 256 octets. Anything that could end the command line or start a parameter is refused.
    static func validatePath(_ path: String) throws {
        guard !path.isEmpty, path.utf8.count <= 254 else {
            throw MailClientError(.protocolViolation, "an SMTP address must have 1 to 254 bytes")
        }
        let forbidden = path.utf8.contains { byte in
            byte < 0x21 || byte == 0x7F || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">")
        }
        if forbidden {
            throw MailClientError(
                .protocolViolation,
                "an SMTP address must not contain spaces, control characters (CR, LF) or angle brackets"
            )
        }
    }

    /// Domain / address-literal for EHLO/HELO: printable ASCII, no spaces.
    static func validateDomain(_ domain: String) throws {
        guard !domain.isEmpty, domain.utf8.count <= 255, domain.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw MailClientError(.protocolViolation, "the EHLO/HELO name must be 1 to 255 printable ASCII characters")
        }
    }

    private static func validateBase64(_ text: String) throws {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=".utf8)
        guard text.utf8.allSatisfy({ allowed.contains($0) }) else {
            throw MailClientError(.protocolViolation, "an AUTH response must be base64")
        }
    }
}

/// The ESMTP parameters of MAIL FROM that postdesk uses.
public struct SMTPMailParameters: Sendable, Hashable {
    /// `SIZE=n`, the message size in bytes (RFC 1870 §6); only when the server offers SIZE.
    public var size: Int?
    /// `BODY=8BITMIME` (RFC 6152 §2); only when the message has 8-bit bytes and the server offers it.
    public var eightBitMIME: Bool
    /// `SMTPUTF8` (RFC 6531 §3.4); only when an address is not ASCII and the server offers it.
    public var smtpUTF8: Bool

    /// Creates parameters; all off by default.
    public init(size: Int? = nil, eightBitMIME: Bool = false, smtpUTF8: Bool = false) {
        self.size = size
        self.eightBitMIME = eightBitMIME
        self.smtpUTF8 = smtpUTF8
    }
}
