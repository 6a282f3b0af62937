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
