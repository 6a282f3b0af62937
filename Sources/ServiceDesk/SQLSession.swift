import Foundation
import GRDB

// The store's SQL is written once, against `SQLSession`, and runs on SQLite (GRDB) or PostgreSQL (PostgresStore).
// The statements keep to what both dialects read alike: `?` placeholders (numbered `$n` for PostgreSQL by its
// session), `ON CONFLICT … DO NOTHING`, `RETURNING id`, flags as 0 or 1 in integer columns, and dates bound as
// values, never formatted in SQL. Where the dialects differ (search, triggers, JSON), the code asks `dialect`.

/// Which SQL a session speaks.
public enum SQLDialect: Sendable, Equatable {
    case sqlite
    case postgres
}

/// One value bound to a statement or read from a row, whichever the backend.
public enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)
    case date(Date)
}

/// A Swift value a statement can bind.
public protocol SQLBindable: Sendable {
    var sqlValue: SQLValue { get }
}

/// A Swift value a row's column can be read as.
public protocol SQLDecodable {
    init(sqlValue: SQLValue) throws
}

/// A column that holds a value of another type than asked for (a schema and code out of step).
public struct SQLDecodingError: Error, CustomStringConvertible {
    public var description: String
}

extension Int64: SQLBindable, SQLDecodable {
    public var sqlValue: SQLValue { .integer(self) }
    public init(sqlValue: SQLValue) throws {
        switch sqlValue {
        case .integer(let value): self = value
        case .real(let value) where value.rounded() == value && abs(value) < 9.2e18: self = Int64(value)
        case .text(let text) where Int64(text) != nil: self = Int64(text) ?? 0
        default: throw SQLDecodingError(description: "expected an integer, found \(sqlValue)")
        }
    }
}

extension Int: SQLBindable, SQLDecodable {
    public var sqlValue: SQLValue { .integer(Int64(self)) }
    public init(sqlValue: SQLValue) throws { self = Int(try Int64(sqlValue: sqlValue)) }
}

extension Double: SQLBindable, SQLDecodable {
    public var sqlValue: SQLValue { .real(self) }
    public init(sqlValue: SQLValue) throws {
        switch sqlValue {
        case .real(let value): self = value
        case .integer(let value): self = Double(value)
        case .text(let text) where Double(text) != nil: self = Double(text) ?? 0
        default: throw SQLDecodingError(description: "expected a number, found \(sqlValue)")
        }
    }
}

/// Flags are 0 or 1 in integer columns on both backends, so that one statement reads them alike.
extension Bool: SQLBindable, SQLDecodable {
    public var sqlValue: SQLValue { .integer(self ? 1 : 0) }
    public init(sqlValue: SQLValue) throws { self = try Int64(sqlValue: sqlValue) != 0 }
}

extension String: SQLBindable, SQLDecodable {
    public var sqlValue: SQLValue { .text(self) }
    public init(sqlValue: SQLValue) throws {
        switch sqlValue {
        case .text(let text): self = text
        case .integer(let value): self = String(value)
        case .blob(let data):
            guard let text = String(data: data, encoding: .utf8) else {
                throw SQLDecodingError(description: "expected text, found bytes that are not UTF-8")
            }
            self = text
        default: throw SQLDecodingError(description: "expected text, found \(sqlValue)")
        }
    }
}

extension Data: SQLBindable, SQLDecodable {
    public var sqlValue: SQLValue { .blob(self) }
    public init(sqlValue: SQLValue) throws {
        switch sqlValue {
        case .blob(let data): self = data
        case .text(let text): self = Data(text.utf8)
        default: throw SQLDecodingError(description: "expected bytes, found \(sqlValue)")
        }
    }
}

extension Date: SQLBindable, SQLDecodable {
    public var sqlValue: SQLValue { .date(self) }
    public init(sqlValue: SQLValue) throws {
        switch sqlValue {
        case .date(let date): self = date
        // SQLite holds dates as GRDB writes them ("2026-12-01 10:00:00.000", UTC).
        case .text(let text):
            guard let date = Date.fromDatabaseValue(text.databaseValue) else {
                throw SQLDecodingError(description: "expected a date, found \"\(text)\"")
            }
            self = date
        case .integer(let seconds): self = Date(timeIntervalSince1970: TimeInterval(seconds))
        case .real(let seconds): self = Date(timeIntervalSince1970: seconds)
        default: throw SQLDecodingError(description: "expected a date, found \(sqlValue)")
        }
    }
}

extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

extension Optional: SQLDecodable where Wrapped: SQLDecodable {
    public init(sqlValue: SQLValue) throws {
        self = sqlValue == .null ? nil : try Wrapped(sqlValue: sqlValue)
    }
}

extension RawRepresentable where Self: SQLBindable, RawValue == String {
    public var sqlValue: SQLValue { .text(rawValue) }
}

extension RawRepresentable where Self: SQLDecodable, RawValue == String {
    public init(sqlValue: SQLValue) throws {
        let text = try String(sqlValue: sqlValue)
        guard let value = Self(rawValue: text) else {
            throw SQLDecodingError(description: "\"\(text)\" is not a \(Self.self)")
        }
        self = value
    }
}

/// A statement's arguments, in placeholder order: `[channelId, key]`.
public struct SQLArguments: Sendable, ExpressibleByArrayLiteral {
    public var values: [SQLValue]

    public init(_ values: [SQLValue]) { self.values = values }
    public init(arrayLiteral elements: (any SQLBindable)...) { values = elements.map(\.sqlValue) }

    public static func + (lhs: SQLArguments, rhs: SQLArguments) -> SQLArguments {
        SQLArguments(lhs.values + rhs.values)
    }
}

/// One row of a result, its columns by name (the first of a repeated name wins, as in SQLite).
public struct SQLRow: Sendable {
    public let columns: [String]
    public let values: [SQLValue]

    public init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    /// The raw value of `column`, or nil when the row has no such column.
    public func value(named column: String) -> SQLValue? {
        // Rows are a few columns wide: a scan is cheaper than building a dictionary per row. PostgreSQL folds unquoted
        // names to lower case, so `projectId` comes back as `projectid`.
        if let index = columns.firstIndex(of: column) { return values[index] }
        let lowered = column.lowercased()
        return columns.firstIndex(of: lowered).map { values[$0] }
    }

    /// The value of `column` as `T`; a missing column reads as NULL.
    public func decode<T: SQLDecodable>(_ type: T.Type = T.self, forColumn column: String) throws -> T {
        do {
            return try T(sqlValue: value(named: column) ?? .null)
        } catch let error as SQLDecodingError {
            throw SQLDecodingError(description: "column \(column): \(error.description)")
        }
    }

    public subscript<T: SQLDecodable>(_ column: String) -> T {
        get throws { try decode(forColumn: column) }
    }

    /// The first column as `T` (a scalar query).
    func first<T: SQLDecodable>(_ type: T.Type) throws -> T { try T(sqlValue: values.first ?? .null) }
}

/// One transaction on one connection, whichever the backend: the store's statements run through it.
public protocol SQLSession {
    var dialect: SQLDialect { get }
    /// Runs a statement; answers how many rows it changed.
    @discardableResult func execute(sql: String, arguments: SQLArguments) throws -> Int
    /// Runs a query; answers every row.
    func fetchAll(sql: String, arguments: SQLArguments) throws -> [SQLRow]
    /// Whether `error` has ended the transaction (so no savepoint can undo it alone).
    func endsTransaction(_ error: any Error) -> Bool
}

extension SQLSession {
    @discardableResult public func execute(sql: String) throws -> Int { try execute(sql: sql, arguments: []) }

    /// The first row, if any.
    public func fetchOne(sql: String, arguments: SQLArguments = []) throws -> SQLRow? {
        try fetchAll(sql: sql, arguments: arguments).first
    }

    /// The first column of the first row, nil when there is no row (or it holds NULL).
    public func fetchScalar<T: SQLDecodable>(_ type: T.Type, sql: String, arguments: SQLArguments = []) throws -> T? {
        guard let row = try fetchOne(sql: sql, arguments: arguments), row.values.first != .null else { return nil }
        return try row.first(T.self)
    }

    /// The first column of every row.
    public func fetchColumn<T: SQLDecodable>(_ type: T.Type, sql: String, arguments: SQLArguments = []) throws -> [T] {
        try fetchAll(sql: sql, arguments: arguments).map { try $0.first(T.self) }
    }

    /// Runs an `INSERT … RETURNING id` and answers the new row's id.
    public func insertReturningId(sql: String, arguments: SQLArguments) throws -> Int64 {
        guard let id = try fetchScalar(Int64.self, sql: sql + " RETURNING id", arguments: arguments) else {
            throw DeskError(.storage, "the insert returned no id")
        }
        return id
    }
}

/// `?, ?, ?` for `count` values (an `IN` list).
public func sqlPlaceholders(_ count: Int) -> String {
    Array(repeating: "?", count: count).joined(separator: ", ")
}

extension SQLDialect {
    /// SQL for the 1-based position of `needle` in `haystack`, 0 when absent (two SQL expressions).
    public func position(of needle: String, in haystack: String) -> String {
        switch self {
        case .sqlite: "instr(\(haystack), \(needle))"
        case .postgres: "strpos(\(haystack), \(needle))"
        }
    }
}

/// Where a store's transactions run: SQLite in the data directory, or a PostgreSQL database shared by nodes.
public protocol SQLBackend: Sendable {
    var dialect: SQLDialect { get }
    /// Runs `body` in one read-write transaction, serializable: committed when it returns, rolled back when it
    /// throws. A backend may run `body` again after a conflict with another node's transaction, so `body` has no
    /// effect outside the session.
    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T
    /// Runs `body` on one consistent snapshot, read-only.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T
    /// Ends the backend's connections.
    func close() async
}

// The fetches as GRDB spells them (`Int64.fetchOne(db, sql:arguments:)`), so that a statement reads the same on
// either API.
extension SQLDecodable {
    public static func fetchOne(_ db: any SQLSession, sql: String, arguments: SQLArguments = []) throws -> Self? {
        try db.fetchScalar(Self.self, sql: sql, arguments: arguments)
    }

    public static func fetchAll(_ db: any SQLSession, sql: String, arguments: SQLArguments = []) throws -> [Self] {
        try db.fetchColumn(Self.self, sql: sql, arguments: arguments)
    }
}

extension SQLRow {
    public static func fetchOne(_ db: any SQLSession, sql: String, arguments: SQLArguments = []) throws -> SQLRow? {
        try db.fetchOne(sql: sql, arguments: arguments)
    }

    public static func fetchAll(_ db: any SQLSession, sql: String, arguments: SQLArguments = []) throws -> [SQLRow] {
        try db.fetchAll(sql: sql, arguments: arguments)
    }
}

/// An error inside `inSavepoint` that was undone with the savepoint: the transaction goes on.
public struct SavepointFailure: Error {
    public var underlying: any Error
}

extension SQLSession {
    /// Runs `body` in a savepoint: kept when it returns, undone alone when it throws (`SavepointFailure`), so the
    /// transaction goes on. An error that ends the whole transaction (a conflict with another node's, a full disk)
    /// is thrown as it is, for the transaction to be undone or run again.
    public func inSavepoint<T>(_ body: () throws -> T) throws -> T {
        try execute(sql: "SAVEPOINT postdesk")
        do {
            let result = try body()
            try execute(sql: "RELEASE SAVEPOINT postdesk")
            return result
        } catch {
            guard !endsTransaction(error) else { throw error }
            do {
                try execute(sql: "ROLLBACK TO SAVEPOINT postdesk")
                try execute(sql: "RELEASE SAVEPOINT postdesk")
            } catch {
                throw error
            }
            throw SavepointFailure(underlying: error)
        }
    }
}
