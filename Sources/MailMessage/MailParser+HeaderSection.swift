extension MailParser {
    /// The header section of a message read without its body: the decoded headers (From, Subject,
    /// Message-ID… as `parse` gives them, with an empty text) and the offset where the body starts.
    ///
    /// Cheap enough for every fetched mail: it reads up to the first empty line (RFC 5322 §2.1) and
    /// no further, so a mailbox can key and log a mail before anything parses it in full.
    public static func parseHeaderSection(_ raw: [UInt8]) -> (mail: ParsedMail, bodyStart: Int) {
        var notes: [String] = []
        var lineBudget = Options().maxHeaderLines
        let bodyStart = MailHeaders.parse(raw[...], notes: &notes, lineBudget: &lineBudget).bodyStart
        var walker = MIMEWalker(options: Options())
        let mail = walker.parseMessage(raw[..<bodyStart], depth: 0)
        return (mail, bodyStart)
    }
}
