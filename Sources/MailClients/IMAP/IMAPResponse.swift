import Foundation

/// One parsed server response (RFC 3501 §7, RFC 9051 §7).
enum IMAPResponse: Sendable, Hashable {
    /// `* …` data or status.
    case untagged(IMAPUntaggedResponse)
    /// `tag OK|NO|BAD …`, completing the command with that tag.
    case tagged(tag: String, IMAPStatusResponse)
    /// `+ …`: the server waits for a literal, an AUTHENTICATE response, or is idling.
    case continuation(String)
}

/// The condition word of a status response (RFC 3501 §7.1).
enum IMAPStatusKind: String, Sendable, Hashable {
    case ok = "OK"
    case no = "NO"
    case bad = "BAD"
    case preauth = "PREAUTH"
    case bye = "BYE"
}

/// A status response: condition, optional response code, and the human-readable text.
struct IMAPStatusResponse: Sendable, Hashable {
    /// OK, NO, BAD, PREAUTH or BYE.
    var kind: IMAPStatusKind
    /// The bracketed response code, if any.
    var code: IMAPResponseCode?
    /// The text after the code.
    var text: String
    /// Everything after the condition word, verbatim: `[ALERT] Please log in via your web browser…`.
    var rawText: String
}

/// Response codes we act on (RFC 3501 §7.1, RFC 5530); the rest are kept by name.
enum IMAPResponseCode: Sendable, Hashable {
    case alert
    case authenticationFailed
    case authorizationFailed
    case unavailable
    case expired
    case limit
    case capability([String])
    case parse
    case permanentFlags([String])
    case readOnly
    case readWrite
    case tryCreate
    case uidNext(UInt32)
    case uidValidity(UInt32)
    case unseen(UInt32)
    case other(name: String, argument: String?)
}

/// Untagged data (RFC 3501 §7.2–7.4).
enum IMAPUntaggedResponse: Sendable, Hashable {
    /// `* OK|NO|BAD|PREAUTH|BYE …`.
    case status(IMAPStatusResponse)
    /// `* CAPABILITY …`, names uppercased.
    case capability([String])
    /// `* n EXISTS`.
    case exists(UInt32)
    /// `* n RECENT`.
    case recent(UInt32)
    /// `* n EXPUNGE`.
    case expunge(UInt32)
    /// `* FLAGS (…)`.
    case flags([String])
    /// `* SEARCH n n …`.
    case search([UInt32])
    /// `* n FETCH (…)`.
    case fetch(sequenceNumber: UInt32, IMAPFetchAttributes)
    /// Anything else we do not use (LIST, STATUS, ENABLED, ID, …), by its keyword.
    case other(String)
}

/// The FETCH attributes we understand; others are skipped.
struct IMAPFetchAttributes: Sendable, Hashable {
    var uid: UInt32?
    var flags: [String]?
    var internalDate: Date?
    var rfc822Size: Int?
    /// `BODY[]` (or `RFC822`) content; `nil` when not sent or sent as NIL.
    var body: [UInt8]?
    /// `BODY[HEADER]` (or `RFC822.HEADER`) content: the header section only (RFC 3501 §6.4.5).
    var header: [UInt8]?

    /// Fills every attribute `other` has and `self` lacks (a message's data may arrive in several FETCH responses).
    mutating func merge(_ other: IMAPFetchAttributes) {
        self.uid = other.uid ?? self.uid
        self.flags = other.flags ?? self.flags
        self.internalDate = other.internalDate ?? self.internalDate
        self.rfc822Size = other.rfc822Size ?? self.rfc822Size
        self.body = other.body ?? self.body
        self.header = other.header ?? self.header
    }
}

extension IMAPResponse {
    /// A one-line description for trace logs: never message bodies.
    var logDescription: String {
        switch self {
        case .continuation(let text):
            return "+ \(text.prefix(200))"
        case .tagged(let tag, let status):
            return "\(tag) \(status.kind.rawValue) \(status.rawText.prefix(200))"
        case .untagged(.status(let status)):
            return "* \(status.kind.rawValue) \(status.rawText.prefix(200))"
        case .untagged(.fetch(let number, let attributes)):
            var parts = ["* \(number) FETCH"]
            if let uid = attributes.uid { parts.append("UID \(uid)") }
            if let flags = attributes.flags { parts.append("FLAGS (\(flags.joined(separator: " ")))") }
            if let size = attributes.rfc822Size { parts.append("RFC822.SIZE \(size)") }
            if let body = attributes.body { parts.append("BODY[] <\(body.count) bytes>") }
            if let header = attributes.header { parts.append("BODY[HEADER] <\(header.count) bytes>") }
            return parts.joined(separator: " ")
        case .untagged(.search(let numbers)):
            return "* SEARCH <\(numbers.count) numbers>"
        case .untagged(.capability(let names)):
            return "* CAPABILITY \(names.joined(separator: " "))".prefix(300).description
        case .untagged(.exists(let count)):
            return "* \(count) EXISTS"
        case .untagged(.recent(let count)):
            return "* \(count) RECENT"
        case .untagged(.expunge(let number)):
            return "* \(number) EXPUNGE"
        case .untagged(.flags(let flags)):
            return "* FLAGS (\(flags.joined(separator: " ")))".prefix(300).description
        case .untagged(.other(let keyword)):
            return "* \(keyword) …"
        }
    }
}
