// ServiceDesk owns the domain of the desk: projects, request types, channels, customers, requests,
// comments, the inbound log and the outbox, with their rules, stored in SQLite through GRDB.
// It does no network I/O and knows no mail protocol.

/// The one error type of ServiceDesk: what the admin did wrong or what the store could not do.
public struct DeskError: Error, Sendable, CustomStringConvertible, Equatable {
    /// A closed set of reasons, used by the admin API to pick an HTTP status.
    public enum Code: String, Sendable, Codable {
        case notFound, conflict, invalid, unsuitableRequestType, storage
        /// A server postdesk called for the admin (an OAuth provider) refused or failed: 502.
        case upstream
    }

    public var code: Code
    /// The HTTP status the admin API and the console answer this failure with (RFC 9110 §15): the one place that
    /// decides it. A failure of the store itself is the server's (500), not the caller's.
    public var httpStatusCode: Int {
        switch code {
        case .notFound: 404
        case .conflict: 409
        case .invalid, .unsuitableRequestType: 400
        case .storage: 500
        case .upstream: 502
        }
    }
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
