// ServiceDesk owns the domain of the desk: projects, request types, channels, customers, requests,
// comments, the inbound log and the outbox, with their rules, stored in SQLite through GRDB.
// It does no network I/O and knows no mail protocol.

/// The one error type of ServiceDesk: what the admin did wrong or what the store could not do.
public struct DeskError: Error, Sendable, CustomStringConvertible, Equatable {
    /// A closed set of reasons; the HTTP layer answers each with its status (WebConsole's `DeskError.status`).
    public enum Code: String, Sendable, Codable {
        case notFound, conflict, invalid, unsuitableRequestType, storage
        /// A server postdesk called for the admin (an OAuth provider) refused or failed: 502.
        case upstream
    }

    public var code: Code
    /// One line for the admin, never containing a password or a message body.
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    static func notFound(_ message: String) -> DeskError { DeskError(.notFound, message) }
    static func conflict(_ message: String) -> DeskError { DeskError(.conflict, message) }
    static func invalid(_ message: String) -> DeskError { DeskError(.invalid, message) }
}
