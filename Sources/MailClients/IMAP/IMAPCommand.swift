/// One tagged client command as a list of parts joined by single spaces (RFC 3501 §2.2.1, §9 `command`).
struct IMAPCommand: Sendable, Hashable {
    /// A piece of a command.
    enum Part: Sendable, Hashable {
        /// Protocol text sent verbatim: keywords, sequence sets, search criteria, parenthesized lists.
        case raw(String)
        /// A value sent as an `astring`: quoted when safe, a literal otherwise.
        case string([UInt8])
        /// A password or SASL payload: encoded like `.raw` or `.string`, shown as `<redacted>` in logs.
        case secret(Secret)
    }

    /// Sensitive payload; its description is redacted.
    struct Secret: Sendable, Hashable, CustomStringConvertible {
        var bytes: [UInt8]
        /// Sent as an astring (LOGIN password) or verbatim (SASL initial response).
        var asString: Bool
        var description: String { "<redacted>" }
    }

    var tag: String
    var parts: [Part]
    /// The server answers OK by switching to TLS (RFC 3501 §6.2.1).
    var startsTLS = false
    /// The server answers with continuation requests the caller must answer (RFC 3501 §6.2.2).
    var expectsContinuations = false

    /// `tag` followed by the parts.
    init(tag: String, _ parts: [Part], startsTLS: Bool = false, expectsContinuations: Bool = false) {
        self.tag = tag
        self.parts = parts
        self.startsTLS = startsTLS
        self.expectsContinuations = expectsContinuations
    }

    /// The command as it goes on the wire, with secrets and long strings replaced, for trace logs.
    var logDescription: String {
        var words = [self.tag]
        for part in self.parts {
            switch part {
            case .raw(let text):
                words.append(text)
            case .string(let bytes):
                words.append(
                    bytes.count <= 200 ? "\"\(String(decoding: bytes, as: UTF8.self))\"" : "{\(bytes.count)}"
                )
            case .secret:
                words.append("<redacted>")
            }
        }
        return words.joined(separator: " ")
    }
}
