/// Parses a raw message and reports how postdesk reads it (for `postdesk inspect`).
public enum MailInspector {
    /// The inspection of `raw`; never fails.
    public static func inspect(_ raw: [UInt8]) -> MailInspection {
        inspect(MailParser.parse(raw))
    }

    /// The inspection of an already parsed mail.
    public static func inspect(_ mail: ParsedMail) -> MailInspection {
        func show(_ address: MailAddress) -> String {
            if let name = address.name { return "\(name) <\(address.address)>" }
            return address.address
        }
        return MailInspection(
            from: mail.from.map(show), to: mail.to.map(show), cc: mail.cc.map(show),
            summary: SubjectNormalizer.summary(from: mail.subject), text: mail.text, replyText: mail.replyText,
            charsetNotes: mail.notes,
            attachments: mail.attachments.map {
                .init(filename: $0.filename, contentType: $0.contentType, size: $0.data.count)
            },
            verdict: AutoReplyClassifier.classify(mail)
        )
    }
}
