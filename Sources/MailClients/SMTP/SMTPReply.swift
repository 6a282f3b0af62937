/// One complete SMTP reply: a three-digit code and its text lines (RFC 5321 §4.2).
public struct SMTPReply: Sendable, Hashable, CustomStringConvertible {
    /// The three-digit reply code, e.g. 250.
    public var code: Int
    /// The text of each line, without the code and its separator; never empty.
    public var lines: [String]

    /// Creates a reply from its code and text lines.
    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines.isEmpty ? [""] : lines
    }

    /// 2yz: the command was accepted (RFC 5321 §4.2.1).
    public var isPositiveCompletion: Bool { code / 100 == 2 }
    /// 3yz: the server waits for more (354 after DATA, 334 during AUTH).
    public var isPositiveIntermediate: Bool { code / 100 == 3 }
    /// 4yz: a temporary failure; the same command may succeed later.
    public var isTransientFailure: Bool { code / 100 == 4 }
    /// 5yz: a permanent failure.
    public var isPermanentFailure: Bool { code / 100 == 5 }

    /// The RFC 3463 enhanced status code at the start of the first line, when the server sent one.
    public var enhancedStatusCode: SMTPEnhancedStatusCode? {
        SMTPEnhancedStatusCode.parse(prefixOf: lines.first ?? "", replyCode: code)
    }

    /// The reply as the server sent it, lines joined by `\n` ("250-a\n250 b"): what an admin should see.
    public var verbatim: String {
        var result = ""
        for (index, line) in lines.enumerated() {
            if index > 0 { result += "\n" }
            let separator = index == lines.count - 1 ? " " : "-"
            result += line.isEmpty && index == lines.count - 1 ? "\(code)" : "\(code)\(separator)\(line)"
        }
        return result
    }

    /// The verbatim reply.
    public var description: String { verbatim }
}
