import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import ServiceDesk

/// The store's SQL on PostgreSQL: each transaction holds one pooled connection on a thread of its own, where the
/// store's synchronous statements wait for the server's answers (never on an event loop or Swift's cooperative
/// pool). Writes are SERIALIZABLE and, as on SQLite, one at a time for the whole desk: each holds a session advisory
/// lock from before its BEGIN to after its COMMIT, so that the intake's read-then-write steps (a project's next
/// request number, its queue version) never race another node's; a conflict that remains (with a lease round, say)
/// runs the transaction again.
public final class PostgresBackend: SQLBackend {
    public let pool: PostgresPool
    private var threads: NIOThreadPool { Self.threads }
    /// What a transaction begins with: writes serializable, reads one read-only snapshot.
    enum Kind {
        case write, read

        var begin: String {
            switch self {
            case .write: "BEGIN ISOLATION LEVEL SERIALIZABLE"
            case .read: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
            }
        }
    }

    /// The threads transactions wait on, one per transaction in flight, shared by every backend of the process (a
    /// pool is never stopped: NIO does not allow one to end while running, and a process has one store).
    static let threads: NIOThreadPool = {
        let threads = NIOThreadPool(numberOfThreads: 32)
        threads.start()
        return threads
    }()
    /// How often a transaction runs before a conflict is the caller's error.
    static let attempts = 8

    public var dialect: SQLDialect { .postgres }

    /// A backend on `pool`.
    public init(pool: PostgresPool) {
        self.pool = pool
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await run(begin: Kind.write.begin, exclusive: true, body)
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLSession) throws -> T) async throws -> T {
        try await run(begin: Kind.read.begin, exclusive: false, body)
    }

    public func close() async {
        pool.close()
    }

    private func run<T: Sendable>(
        begin: String, exclusive: Bool, _ body: @escaping @Sendable (any SQLSession) throws -> T
    ) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await pool.client.withConnection { connection in
                    try await self.threads.runIfActive {
                        try PostgresSession(connection: connection, logger: self.pool.logger).transaction(
                            begin: begin, exclusive: exclusive, body)
                    }
                }
            } catch let error where attempt < Self.attempts && Self.isConflict(error) {
                // Another node's transaction touched the same rows (or took the same unique key) first: this one saw
                // a state that no longer is, and runs again on the new one, after a short random pause.
                attempt += 1
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 * attempt))))
            } catch let error as DeskError {
                throw error
            } catch let error as FencedOut {
                throw error
            } catch {
                throw DeskError(.storage, "database transaction failed: \(PostgresPool.describe(error))")
            }
        }
    }

    /// Serialization failure, deadlock, or a unique key another transaction took first.
    static func isConflict(_ error: any Error) -> Bool {
        guard let state = (error as? PSQLError)?.serverInfo?[.sqlState] else { return false }
        return ["40001", "40P01", "23505"].contains(state)
    }
}

/// One connection in one transaction, its statements run synchronously.
struct PostgresSession: SQLSession {
    let connection: PostgresConnection
    let logger: Logger
    var dialect: SQLDialect { .postgres }

    /// The advisory lock every write transaction holds ("pdwriter" as a number).
    static let writerLock: Int64 = 0x7064_7772_6974_6572

    func transaction<T>(begin: String, exclusive: Bool, _ body: (any SQLSession) throws -> T) throws -> T {
        // Taken before BEGIN, so that the transaction's snapshot is taken after the writer before it committed.
        if exclusive { try run("SELECT pg_advisory_lock(\(Self.writerLock))") }
        defer { if exclusive { try? run("SELECT pg_advisory_unlock(\(Self.writerLock))") } }
        try run(begin)
        do {
            let result = try body(self)
            try run("COMMIT")
            return result
        } catch {
            // A failed statement has aborted the transaction already; the rollback ends it so the pooled connection
            // is clean. Its own failure would hide the cause.
            try? run("ROLLBACK")
            throw error
        }
    }

    private func run(_ sql: String) throws {
        _ = try connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).wait()
    }

    /// A conflict with another transaction must run the whole transaction again, not be undone alone.
    func endsTransaction(_ error: any Error) -> Bool { PostgresBackend.isConflict(error) }

    func execute(sql: String, arguments: SQLArguments) throws -> Int {
        try query(sql, arguments).metadata.rows ?? 0
    }

    func fetchAll(sql: String, arguments: SQLArguments) throws -> [SQLRow] {
        let result = try query(sql, arguments)
        return try result.rows.map { row in
            var columns: [String] = []
            var values: [SQLValue] = []
            for cell in row {
                columns.append(cell.columnName)
                values.append(try Self.value(cell))
            }
            return SQLRow(columns: columns, values: values)
        }
    }

    private func query(_ sql: String, _ arguments: SQLArguments) throws -> PostgresQueryResult {
        var binds = PostgresBindings(capacity: arguments.values.count)
        for value in arguments.values {
            switch value {
            case .null: binds.appendNull()
            case .integer(let integer): binds.append(integer)
            case .real(let real): binds.append(real)
            // PostgreSQL's text cannot hold U+0000, which SQLite's can and a hostile mail may carry: it becomes
            // U+FFFD, as an undecodable byte does, so that such a mail is stored and decided, not refused.
            case .text(let text):
                binds.append(text.contains("\0") ? text.replacingOccurrences(of: "\0", with: "\u{FFFD}") : text)
            case .blob(let data): binds.append(ByteBuffer(bytes: data))
            case .date(let date): binds.append(date)
            }
        }
        return try connection.query(
            PostgresQuery(unsafeSQL: Self.numberingPlaceholders(sql), binds: binds), logger: logger
        ).wait()
    }

    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8, .oid: return .integer(try cell.decode(Int64.self))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .float4, .float8: return .real(try cell.decode(Double.self))
        case .numeric:
            let decimal = try cell.decode(Decimal.self)
            let integer = NSDecimalNumber(decimal: decimal)
            return decimal == Decimal(integer.int64Value) ? .integer(integer.int64Value) : .real(integer.doubleValue)
        case .bytea: return .blob(try cell.decode(Data.self))
        case .timestamptz, .timestamp: return .date(try cell.decode(Date.self))
        default: return .text(try cell.decode(String.self))
        }
    }

    /// The statement with SQLite's placeholders as PostgreSQL's: `?` is the next number, `?N` is `$N`. Quoted text,
    /// quoted names and comments are left alone.
    static func numberingPlaceholders(_ sql: String) -> String {
        guard sql.contains("?") else { return sql }
        var output = ""
        output.reserveCapacity(sql.utf8.count + 8)
        var next = 1
        var quote: Character? = nil
        var inComment = false
        var characters = sql.makeIterator()
        var pending: Character? = characters.next()
        while let character = pending {
            pending = characters.next()
            if inComment {
                output.append(character)
                if character == "\n" { inComment = false }
                continue
            }
            if let open = quote {
                output.append(character)
                if character == open { quote = nil }
                continue
            }
            switch character {
            case "'", "\"":
                quote = character
                output.append(character)
            case "-" where pending == "-":
                inComment = true
                output.append(character)
            case "?":
                var digits = ""
                while let digit = pending, digit.isASCII, digit.isNumber {
                    digits.append(digit)
                    pending = characters.next()
                }
                let number = Int(digits) ?? next
                output += "$\(number)"
                next = max(next, number + 1)
            default:
                output.append(character)
            }
        }
        return output
    }
}
