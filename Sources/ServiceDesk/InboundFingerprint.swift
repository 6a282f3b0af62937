import Crypto
import MailMessage

/// What makes one inbound mail the same mail again: its Message-ID together with a SHA-256 of what
/// the sender wrote, so that a re-fetch or a second delivery is taken once, while a different mail
/// that reuses a Message-ID is still taken.
///
/// "What the sender wrote" is the body and the sender's own header fields (RFC 5322 §3.6.2–3.6.5 and
/// the MIME fields of RFC 2045 §3), never the trace fields (Received, Return-Path, Delivered-To,
/// Authentication-Results, …) that each MTA and each delivery add (RFC 5322 §3.6.7): the same mail
/// delivered twice, by IMAP and by LMTP or to two aliases, hashes the same.
public struct InboundFingerprint: Sendable, Equatable {
    /// The Message-ID without angle brackets, when the mail has one.
    public var messageID: String?
    /// Lower-case hex SHA-256 of the sender's fields and the body.
    public var contentHash: String
    /// The sender's address as written in From (normalised), for the processing log.
    public var from: String?
    /// The decoded Subject, for the processing log.
    public var subject: String?

    /// The fields a sender writes, in the fixed order they are hashed in.
    static let senderFields = [
        "from", "sender", "reply-to", "to", "cc", "subject", "date", "message-id", "in-reply-to", "references",
        "mime-version", "content-type", "content-transfer-encoding",
    ]

    /// Reads the fingerprint of raw mail bytes; linear in their size, never fails.
    public init(raw: [UInt8]) {
        let (mail, bodyStart) = MailParser.parseHeaderSection(raw)
        var hash = SHA256()
        for name in Self.senderFields {
            for value in mail.headers.all(name) {
                // Unfolded and trimmed by the parser already; the name keeps fields apart.
                hash.update(data: Array(name.utf8) + [0x3A])
                hash.update(data: Array(value.utf8) + [0x0A])
            }
        }
        hash.update(data: [0x0A])
        // The body with CR removed: an MTA that stores bare LF and one that keeps CRLF deliver the same mail.
        let body = raw[min(bodyStart, raw.count)...]
        var chunk: [UInt8] = []
        chunk.reserveCapacity(min(body.count, 64 << 10))
        for byte in body where byte != 0x0D {
            chunk.append(byte)
            if chunk.count == 64 << 10 {
                hash.update(data: chunk)
                chunk.removeAll(keepingCapacity: true)
            }
        }
        hash.update(data: chunk)
        self.contentHash = hexDigits(hash.finalize())
        let id = mail.messageID.flatMap { $0.isEmpty ? nil : $0 }
        self.messageID = id
        self.from = (mail.from.first ?? mail.sender).flatMap { AddressNormalizer.normalize($0.address) }
        self.subject = mail.subject
    }

    /// The unique key of the mail within its channel.
    public var dedupeKey: String {
        if let messageID { return "mid:\(messageID)#\(contentHash)" }
        return "sha256:\(contentHash)"
    }

    /// The key rows stored before content hashes were keyed on the Message-ID alone.
    var legacyMessageIDKey: String? { messageID.map { "mid:" + $0 } }
}

/// Lower-case hex of bytes (a digest), two digits per byte: the form content hashes and attachment names take.
func hexDigits(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}
