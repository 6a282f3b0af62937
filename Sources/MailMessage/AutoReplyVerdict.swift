/// Whether a mail was sent by a machine (auto-reply, bounce, list, our own notification) and which header said so.
public struct AutoReplyVerdict: Sendable, Equatable, Codable {
    /// True when the mail must not create a request or comment.
    public var isAutomatic: Bool
    /// The header that decided ("Auto-Submitted", "Return-Path"…), nil when not automatic.
    public var header: String?
    /// A sentence for the processing log; "" when not automatic.
    public var reason: String

    /// Makes a verdict.
    public init(isAutomatic: Bool, header: String?, reason: String) {
        self.isAutomatic = isAutomatic
        self.header = header
        self.reason = reason
    }

    /// The verdict for a mail written by a person.
    public static let human = AutoReplyVerdict(isAutomatic: false, header: nil, reason: "")
}
