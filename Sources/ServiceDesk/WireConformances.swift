import GRDB
@_exported import PostdeskWire

// The store reads and writes the wire vocabulary (PostdeskWire) as column values and rows: those conformances
// are the store's business, so they are declared here and not in the target the CLI shares.
extension SignupPolicy: DatabaseValueConvertible {}
extension MailProvider: DatabaseValueConvertible {}
extension AuthMethod: DatabaseValueConvertible {}
extension AgentRole: DatabaseValueConvertible {}
extension ConsoleLocale: DatabaseValueConvertible {}
extension InboundOutcome: DatabaseValueConvertible {}
extension OutboxStatus: DatabaseValueConvertible {}
extension OAuthProvider: DatabaseValueConvertible {}
extension WebhookEvent: DatabaseValueConvertible {}
extension NotificationKind: DatabaseValueConvertible {}
extension OutboxEntry: FetchableRecord {}
extension WebhookDeliveryStatus: DatabaseValueConvertible {}

// The same vocabulary as `SQLSession` values (their raw strings).
extension SignupPolicy: SQLBindable, SQLDecodable {}
extension MailboxProtocol: SQLBindable, SQLDecodable {}
extension MailProvider: SQLBindable, SQLDecodable {}
extension AuthMethod: SQLBindable, SQLDecodable {}
extension ServerTLS: SQLBindable, SQLDecodable {}
extension RequestStatus: SQLBindable, SQLDecodable {}
extension CommentSource: SQLBindable, SQLDecodable {}
extension CustomerRuleKind: SQLBindable, SQLDecodable {}
extension AgentRole: SQLBindable, SQLDecodable {}
extension ConsoleLocale: SQLBindable, SQLDecodable {}
extension InboundOutcome: SQLBindable, SQLDecodable {}
extension OutboxStatus: SQLBindable, SQLDecodable {}
extension OAuthProvider: SQLBindable, SQLDecodable {}
extension WebhookEvent: SQLBindable, SQLDecodable {}
extension NotificationKind: SQLBindable, SQLDecodable {}
extension WebhookDeliveryStatus: SQLBindable, SQLDecodable {}
extension OutboxEntry: SQLRecord {
    public static var tableName: String { "outbox" }
}
