import Foundation
import MailMessage

/// How the desk reads one mail: a pure function of its bytes, parsed once, used by the router to
/// process it and by `postdesk inspect` to show it, so that the two cannot drift apart. What the mail
/// becomes (admission, threading, participants) is decided from it by the store, in one transaction.
public struct MailReading: Sendable {
    /// The header that marks a `channel verify` test email; its token ties it to one verification.
    public static let verificationHeader = "X-Postdesk-Verify"

    /// The sender (From, else Sender), normalised; empty when the mail names none.
    public var senderAddress: String
    public var senderName: String?
    public var subject: String?
    /// The request summary the subject gives.
    public var summary: String
    /// The body text, trimmed: a new request's description.
    public var description: String
    /// The reply text with the quoted original stripped, used when the mail is a comment.
    public var commentText: String
    public var messageID: String?
    /// In-Reply-To then References, newest first.
    public var referencedMessageIDs: [String]
    /// The header that marks the mail as automatic (auto-reply, bounce, loop), with the reason.
    public var automatic: (header: String, reason: String)?
    /// Addresses in To and Cc besides the sender, normalised, in order, each once.
    public var copied: [String]
    /// Attachments to keep with the request or comment.
    public var attachments: [IncomingAttachment]
    /// Parse notes for the processing log (charset decisions, dropped parts, parse budget).
    public var notes: [String]
    /// The `X-Postdesk-Verify` token of a `channel verify` test email, if the mail carries one.
    public var verificationToken: String?
    /// The mail-level reading `postdesk inspect` prints; nil for readings made by hand in tests.
    public var inspection: MailInspection?

    /// A reading from its parts (tests, and callers that already know them).
    public init(
        senderAddress: String,
        senderName: String? = nil,
        subject: String?,
        summary: String,
        description: String,
        commentText: String,
        messageID: String?,
        referencedMessageIDs: [String] = [],
        automatic: (header: String, reason: String)? = nil,
        copied: [String] = [],
        attachments: [IncomingAttachment] = [],
        notes: [String] = [],
        verificationToken: String? = nil
    ) {
        self.senderAddress = senderAddress
        self.senderName = senderName
        self.subject = subject
        self.summary = summary
        self.description = description
        self.commentText = commentText
        self.messageID = messageID
        self.referencedMessageIDs = referencedMessageIDs
        self.automatic = automatic
        self.copied = copied
        self.attachments = attachments
        self.notes = notes
        self.verificationToken = verificationToken
        self.inspection = nil
    }

    /// Reads raw mail bytes: one parse, never fails.
    public init(raw: [UInt8], options: MailParser.Options = .init()) {
        let parsed = MailParser.parse(raw, options: options)
        let inspection = MailInspector.inspect(parsed)
        let sender = parsed.from.first ?? parsed.sender
        let address = sender.flatMap { AddressNormalizer.normalize($0.address) } ?? ""
        var copied: [String] = []
        var seen: Set<String> = [address]
        for candidate in (parsed.to + parsed.cc).compactMap({ AddressNormalizer.normalize($0.address) })
        where seen.insert(candidate).inserted {
            copied.append(candidate)
        }
        self.init(
            senderAddress: address,
            senderName: sender?.name,
            subject: parsed.subject,
            summary: inspection.summary,
            description: inspection.text.trimmingUnicodeWhitespace(),
            commentText: inspection.replyText.trimmingUnicodeWhitespace(),
            messageID: parsed.messageID,
            referencedMessageIDs: parsed.inReplyTo + parsed.references.reversed(),
            automatic: inspection.verdict.isAutomatic
                ? (inspection.verdict.header ?? "?", inspection.verdict.reason) : nil,
            copied: copied,
            attachments: parsed.attachments.map {
                IncomingAttachment(
                    filename: $0.filename, contentType: $0.contentType, isInline: $0.isInline, data: $0.data)
            },
            notes: parsed.notes,
            verificationToken: parsed.headers[Self.verificationHeader]?.trimmingCharacters(in: .whitespaces)
        )
        self.inspection = inspection
    }

    /// The lines `postdesk inspect` adds to the mail-level reading: what the desk takes from it.
    public func renderDeskText() -> String {
        var lines = ["--- desk reading ---"]
        lines.append("Sender:     \(senderAddress.isEmpty ? "(none)" : senderAddress)")
        lines.append("Message-ID: \(messageID ?? "(none)")")
        if !referencedMessageIDs.isEmpty {
            lines.append("Answers:    \(referencedMessageIDs.joined(separator: " "))")
        }
        if !copied.isEmpty { lines.append("Copied:     \(copied.joined(separator: ", "))") }
        if let token = ReplyToken.tokens(inMessageIDs: referencedMessageIDs, addresses: copied).first {
            lines.append("Reply token: \(token.requestKey) (checked by the server against its key)")
        }
        if let automatic {
            lines.append("Verdict:    ignored as automatic (\(automatic.header): \(automatic.reason))")
        } else if senderAddress.isEmpty {
            lines.append("Verdict:    ignored: no sender address")
        } else {
            lines.append("Verdict:    a request or a comment, if the project admits the sender")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

extension String {
    /// The string without leading and trailing whitespace and newlines as Foundation's `.whitespacesAndNewlines`
    /// names them, cut by scalar as Foundation cuts, without Foundation's round trip through UTF-16 (a tenth of the
    /// router's work per mail).
    func trimmingUnicodeWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.isWhitespaceOrNewline }),
            let last = scalars.lastIndex(where: { !$0.isWhitespaceOrNewline })
        else { return "" }
        return String(scalars[first...last])
    }
}

extension Unicode.Scalar {
    /// Whether Foundation's `.whitespacesAndNewlines` holds the scalar: tab, space, no-break space and the other
    /// spaces up to the zero width space, and the line and paragraph ends (CoreFoundation's predefined sets).
    var isWhitespaceOrNewline: Bool {
        switch value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200B, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }
}
