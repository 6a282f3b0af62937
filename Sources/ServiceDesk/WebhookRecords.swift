import Foundation
import GRDB

/// A receiver of outbound webhooks: a URL, the events it wants, optionally only one project's, and its signing
/// secret sealed with the data directory's key.
public struct Webhook: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord, SQLIdentifiedRecord {
    public static let databaseTableName = "webhook"
    public static var tableName: String { databaseTableName }
    public var id: Int64?
    public var url: String
    /// The events it gets, sorted and without repeats (a JSON array in the database, read by the triggers).
    public var events: [WebhookEvent]
    /// The signing secret, sealed by `SecretBox`.
    public var secret: Data
    /// Only this project's events; nil: every project's.
    public var projectId: Int64?
    /// An inactive webhook gets no new deliveries, and its pending ones wait.
    public var active: Bool
    public var createdAt: Date

    public enum Columns {
        static let active = Column(CodingKeys.active)
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// One event for one webhook: the payload is fixed (a JSON snapshot made by the trigger in the change's own
/// transaction), so every attempt sends the same bytes.
public struct WebhookDelivery: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord,
    SQLIdentifiedRecord
{
    public static let databaseTableName = "webhookDelivery"
    public static var tableName: String { databaseTableName }
    public var id: Int64?
    public var webhookId: Int64
    public var event: WebhookEvent
    /// The JSON body, as sent.
    public var payload: String
    public var status: WebhookDeliveryStatus
    /// Attempts made (a receiver that could not be reached counts too).
    public var attempts: Int
    public var nextAttemptAt: Date
    /// The receiver's HTTP status at the last attempt; nil when none answered.
    public var responseCode: Int?
    /// The first 500 characters of the receiver's answer at the last attempt, or why there was none.
    public var lastResponse: String?
    public var createdAt: Date
    public var sentAt: Date?

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A webhook as the admin interface lists it: the record without its secret, with its project's key and how its
/// deliveries stand.
public struct WebhookEntry: Sendable, Equatable {
    public var id: Int64
    public var url: String
    public var events: [WebhookEvent]
    /// nil: every project.
    public var projectKey: String?
    public var active: Bool
    public var createdAt: Date
    public var pending: Int
    public var failed: Int
    /// When the receiver last took a delivery.
    public var lastSentAt: Date?
}

/// A due delivery with what the dispatcher needs to send it: where, and the secret to sign with.
public struct WebhookJob: Sendable, Equatable {
    public var delivery: WebhookDelivery
    public var url: String
    /// The signing secret, opened.
    public var secret: String
}
