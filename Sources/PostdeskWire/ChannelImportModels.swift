import Foundation

/// Body of `POST /v1/channels/import`: the mailboxes of one file, each under the file line it came from.
public struct ChannelImportBody: Codable, Sendable {
    /// How many mailboxes are tested at once (default 16, at most 256).
    public var concurrency: Int?
    public var rows: [ChannelImportRow]

    public init(concurrency: Int?, rows: [ChannelImportRow]) {
        self.concurrency = concurrency
        self.rows = rows
    }
}

/// One mailbox of an import: the line of the file it came from, its project, and what `channel add` would send.
public struct ChannelImportRow: Codable, Sendable {
    public var line: Int
    public var project: String
    public var channel: ChannelBody

    public init(line: Int, project: String, channel: ChannelBody) {
        self.line = line
        self.project = project
        self.channel = channel
    }
}

/// What became of one row of an import.
public enum ChannelImportOutcome: String, Codable, Sendable, CaseIterable {
    /// Tested and linked now.
    case linked
    /// Linked before with the same settings: nothing changed, the watermark stays.
    case alreadyLinked = "already-linked"
    /// Not linked: the mail server refused, or the address is linked with other settings (a conflict).
    case failed
}

/// One line of the answer of `POST /v1/channels/import` (NDJSON), sent as soon as the row's fate is known.
public struct ChannelImportResult: Codable, Sendable, Equatable {
    public var line: Int
    public var project: String
    public var address: String
    public var result: ChannelImportOutcome
    /// Why the row failed: the mail server's words with our diagnosis, or what differs from the linked channel.
    public var reason: String?
    /// The row failed because the address or its account is linked already with other settings.
    public var conflict: Bool
    /// What the admin should know about a linked channel (POP3 deletes mail…).
    public var warnings: [String]

    public init(
        line: Int, project: String, address: String, result: ChannelImportOutcome, reason: String? = nil,
        conflict: Bool = false, warnings: [String] = []
    ) {
        self.line = line
        self.project = project
        self.address = address
        self.result = result
        self.reason = reason
        self.conflict = conflict
        self.warnings = warnings
    }
}

/// A row an import refused before linking anything.
public struct ChannelImportProblem: Codable, Sendable, Equatable {
    public var line: Int
    public var address: String
    public var error: String

    /// Makes the value from its fields.
    public init(line: Int, address: String, error: String) {
        self.line = line
        self.address = address
        self.error = error
    }
}

/// The answer (400) when any row of an import cannot be linked as written: nothing was linked. `error` says it in
/// lines for the terminal; `problems` lists every row.
public struct ChannelImportRejection: Codable, Sendable {
    public var error: String
    public var problems: [ChannelImportProblem]

    /// Makes the value from its fields.
    public init(error: String, problems: [ChannelImportProblem]) {
        self.error = error
        self.problems = problems
    }
}
