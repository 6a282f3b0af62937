import Foundation

/// One stored inbound mail, as `postdesk inbound show` prints it (the raw bytes come separately).
public struct InboundView: Codable, Sendable {
    public var id: Int64
    public var channel: String
    public var mailboxUid: String?
    public var messageId: String?
    public var from: String?
    public var subject: String?
    public var fetchedAt: Date
    public var processedAt: Date?
    public var outcome: InboundOutcome
    public var request: String?
    public var detail: String?
    public var attempts: Int
    public var size: Int
    public var notes: [String]?

    /// Makes the value from its fields.
    public init(
        id: Int64, channel: String, mailboxUid: String? = nil, messageId: String? = nil, from: String? = nil,
        subject: String? = nil, fetchedAt: Date, processedAt: Date? = nil, outcome: InboundOutcome,
        request: String? = nil, detail: String? = nil, attempts: Int, size: Int, notes: [String]? = nil
    ) {
        self.id = id
        self.channel = channel
        self.mailboxUid = mailboxUid
        self.messageId = messageId
        self.from = from
        self.subject = subject
        self.fetchedAt = fetchedAt
        self.processedAt = processedAt
        self.outcome = outcome
        self.request = request
        self.detail = detail
        self.attempts = attempts
        self.size = size
        self.notes = notes
    }
}

/// Which mails an inbound command acts on: one id, one sender, or all of the kind.
public struct InboundSelectionBody: Codable, Sendable {
    public var id: Int64?
    public var sender: String?
    public var all: Bool?

    public init(id: Int64? = nil, sender: String? = nil, all: Bool? = nil) {
        self.id = id
        self.sender = sender
        self.all = all
    }
}

/// The mails an inbound command changed.
public struct InboundChangeView: Codable, Sendable {
    public var ids: [Int64]

    /// Makes the value from its fields.
    public init(ids: [Int64]) {
        self.ids = ids
    }
}
