/// What `postdesk inspect` shows about one raw message: how postdesk reads it, without storing anything.
public struct MailInspection: Sendable, Codable, Equatable {
    /// One attachment as listed by the inspection.
    public struct Attachment: Sendable, Codable, Equatable {
        /// The sanitised file name.
        public var filename: String
        /// The media type without parameters.
        public var contentType: String
        /// The decoded size in bytes.
        public var size: Int

        /// Makes an attachment row.
        public init(filename: String, contentType: String, size: Int) {
            self.filename = filename
            self.contentType = contentType
            self.size = size
        }
    }

    /// From, formatted as "Name <address>" or the bare address.
    public var from: [String]
    /// To, formatted like `from`.
    public var to: [String]
    /// Cc, formatted like `from`.
    public var cc: [String]
    /// The request summary the subject gives.
    public var summary: String
    /// The body text.
    public var text: String
    /// The reply text a comment would get.
    public var replyText: String
    /// Notes from parsing (charset decisions, malformed or dropped parts).
    public var charsetNotes: [String]
    /// The attachments.
    public var attachments: [Attachment]
    /// The auto-reply verdict.
    public var verdict: AutoReplyVerdict

    /// Makes an inspection from its parts.
    public init(
        from: [String], to: [String], cc: [String], summary: String, text: String, replyText: String,
        charsetNotes: [String], attachments: [Attachment], verdict: AutoReplyVerdict
    ) {
        self.from = from
        self.to = to
        self.cc = cc
        self.summary = summary
        self.text = text
        self.replyText = replyText
        self.charsetNotes = charsetNotes
        self.attachments = attachments
        self.verdict = verdict
    }

    /// A plain-text report for people, one section after another.
    public func renderText() -> String {
        var lines: [String] = []
        lines.append("From:     \(from.joined(separator: ", "))")
        lines.append("To:       \(to.joined(separator: ", "))")
        if !cc.isEmpty { lines.append("Cc:       \(cc.joined(separator: ", "))") }
        lines.append("Summary:  \(summary)")
        if verdict.isAutomatic {
            lines.append("Automatic: yes, \(verdict.header ?? "?"): \(verdict.reason)")
        } else {
            lines.append("Automatic: no")
        }
        lines.append("")
        lines.append("--- text ---")
        lines.append(text)
        lines.append("")
        lines.append("--- reply text ---")
        lines.append(replyText)
        lines.append("")
        lines.append("--- attachments (\(attachments.count)) ---")
        for attachment in attachments {
            lines.append("\(attachment.filename)  \(attachment.contentType)  \(attachment.size) bytes")
        }
        lines.append("")
        lines.append("--- notes (\(charsetNotes.count)) ---")
        lines.append(contentsOf: charsetNotes)
        return lines.joined(separator: "\n") + "\n"
    }
}
