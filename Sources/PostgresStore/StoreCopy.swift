import Crypto
import Foundation
import Logging
import NIOPosix
import PostgresNIO
import ServiceDesk

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Moves a desk from its SQLite file (its server stopped) into an empty PostgreSQL database, attachment files
/// included, and proves the copy table by table with row counts and checksums (`postdesk store copy`).
///
/// The tables are those both schemas have (SQLite's search index, its cursor and GRDB's migration log stay behind;
/// PostgreSQL's node leases are not the desk's), copied in one PostgreSQL transaction, parents before children, ids
/// as they are, values converted by the PostgreSQL column's type: GRDB's date text to TIMESTAMPTZ (to the
/// millisecond, as GRDB keeps them), blobs to BYTEA, flags as the integers they are. The tables' own triggers
/// (webhook deliveries, the queue's change counter) are disabled for the copy, since their rows are copied as data;
/// the identity sequences are set past the highest id SQLite ever gave. The copy is verified before it commits, so a
/// mismatch leaves the target as empty as it was. Sealed secrets are copied as sealed bytes: the secret key is never
/// opened, and the PostgreSQL desk needs the same key file.
public struct StoreCopy: Sendable {
    /// The SQLite desk being copied.
    public let source: DeskStore
    /// The SQLite file's path.
    public let sourcePath: String
    /// The PostgreSQL database the desk is copied into (migrated when opened).
    public let target: PostgresPool
    /// Where the PostgreSQL desk keeps its attachment files (`serve`'s attachment directory).
    public let targetAttachments: URL
    /// How many rows are read (and inserted) at a time; at most 16 of a table with bytes (mails).
    public var batchRows: Int = 500
    private let lock: SourceLock?
    private let logger: Logger

    /// Opens the SQLite desk at `sqlitePath` (migrating it to this postdesk's schema, as `serve` would) and the
    /// PostgreSQL database at `postgres` (migrating it). Refuses while a server holds the SQLite desk's data
    /// directory.
    public static func open(
        sqlitePath: String, postgres: PostgresLocation, attachmentDirectory: URL, logger: Logger
    ) async throws -> StoreCopy {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: sqlitePath, isDirectory: &isDirectory), !isDirectory.boolValue
        else {
            throw DeskError(.notFound, "there is no desk database at \(sqlitePath)")
        }
        let lock = try SourceLock(beside: URL(fileURLWithPath: sqlitePath))
        let source = try DeskStore(path: sqlitePath, secrets: SecretBox())
        let target = try await PostgresPool.open(postgres, maximumConnections: 2, logger: logger)
        return StoreCopy(
            source: source, sourcePath: sqlitePath, target: target, targetAttachments: attachmentDirectory,
            lock: lock, logger: logger)
    }

    private init(
        source: DeskStore, sourcePath: String, target: PostgresPool, targetAttachments: URL, lock: SourceLock?,
        logger: Logger
    ) {
        self.source = source
        self.sourcePath = sourcePath
        self.target = target
        self.targetAttachments = targetAttachments
        self.lock = lock
        self.logger = logger
    }

    /// Ends the PostgreSQL pool and lets go of the SQLite desk's data directory.
    public func close() async {
        target.close()
        lock?.release()
    }

    // MARK: Copy and verify

    /// Copies the attachment files, then every desk table in one transaction that commits only when the verification
    /// (`verify()`'s, on the uncommitted copy) finds every table and file equal. Refuses a target whose desk tables
    /// hold any row.
    public func copy() async throws -> StoreCopyReport {
        let source = self.source
        let rows = max(1, batchRows)
        // Refused before a file is written: a desk already there is the usual mistake (a second run).
        try await transaction(.read) { postgres in
            try source.readSQLiteSnapshot { sqlite in
                try Self.requireEmpty(try Self.plan(sqlite: sqlite, postgres: postgres), in: postgres)
            }
        }
        // Files first, as the store itself writes them: a failure after this leaves unreferenced files at most.
        let copied = try await copyAttachments()
        let attachments = targetAttachments
        return try await transaction(.write) { postgres in
            try source.readSQLiteSnapshot { sqlite in
                let plan = try Self.plan(sqlite: sqlite, postgres: postgres)
                try Self.requireEmpty(plan, in: postgres)
                let triggered = plan.filter(\.hasTriggers)
                for table in triggered {
                    try postgres.execute(sql: "ALTER TABLE \(Side.postgres.table(table)) DISABLE TRIGGER USER")
                }
                for table in plan {
                    try Self.copy(table, from: sqlite, to: postgres, batchRows: rows)
                }
                try Self.advanceSequences(plan, sqlite: sqlite, postgres: postgres)
                for table in triggered {
                    try postgres.execute(sql: "ALTER TABLE \(Side.postgres.table(table)) ENABLE TRIGGER USER")
                }
                var report = try Self.compare(
                    plan, sqlite: sqlite, postgres: postgres, attachments: attachments, batchRows: rows)
                report.attachments.copied = copied
                guard report.matches else { throw StoreCopyMismatch(report: report, rolledBack: true) }
                return report
            }
        }
    }

    /// Compares the PostgreSQL desk with the SQLite desk, table by table (row counts and checksums), and checks that
    /// every attachment file the PostgreSQL desk refers to is in `targetAttachments` with the content its name says.
    /// Writes nothing; throws `StoreCopyMismatch` (with the report) when anything differs.
    public func verify() async throws -> StoreCopyReport {
        let source = self.source
        let rows = max(1, batchRows)
        let attachments = targetAttachments
        let report = try await transaction(.read) { postgres in
            try source.readSQLiteSnapshot { sqlite in
                try Self.compare(
                    try Self.plan(sqlite: sqlite, postgres: postgres), sqlite: sqlite, postgres: postgres,
                    attachments: attachments, batchRows: rows)
            }
        }
        guard report.matches else { throw StoreCopyMismatch(report: report, rolledBack: false) }
        return report
    }

    // MARK: The tables

    /// SQLite's own tables, which PostgreSQL does without: GRDB's migration log and the search index's cursor (the
    /// FTS5 tables and their shadow tables are found by their definition).
    static let sqliteOnly: Set<String> = ["grdb_migrations", "searchcursor"]
    /// PostgreSQL's own tables, which are not the desk's: its migration log, the nodes' mailbox leases and processing
    /// claims, and the attachment bytes of nodes that share no directory (the copy puts the files in one).
    static let postgresOnly: Set<String> = [
        "schemamigration", "node", "channellease", "attachmentblob", "inboundclaim",
    ]

    /// The desk tables both schemas have, parents before children, with their columns as PostgreSQL types them.
    /// Schemas out of step (a table or column on one side only) are refused, naming what differs.
    static func plan(sqlite: any SQLSession, postgres: any SQLSession) throws -> [CopyTable] {
        let definitions = try sqlite.fetchAll(
            sql: "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name", arguments: [])
        var names: [String] = []
        var virtual: [String] = []
        for row in definitions {
            let name: String = try row["name"]
            let sql: String? = try row["sql"]
            if sql?.uppercased().hasPrefix("CREATE VIRTUAL TABLE") == true { virtual.append(name.lowercased()) }
            names.append(name)
        }
        let deskNames = names.filter { name in
            let lowered = name.lowercased()
            return !lowered.hasPrefix("sqlite_") && !sqliteOnly.contains(lowered)
                && !virtual.contains { lowered == $0 || lowered.hasPrefix($0 + "_") }
        }

        let postgresColumns = try postgres.fetchAll(
            sql: """
                SELECT c.table_name::text AS tablename, c.column_name::text AS columnname,
                    c.data_type::text AS datatype, c.is_identity::text AS isidentity
                FROM information_schema.columns c JOIN information_schema.tables t
                    ON t.table_schema = c.table_schema AND t.table_name = c.table_name
                WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
                ORDER BY c.table_name, c.ordinal_position
                """, arguments: [])
        var columnsByTable: [String: [(name: String, type: String, identity: Bool)]] = [:]
        for row in postgresColumns {
            let table: String = try row["tablename"]
            let isIdentity: String = try row["isidentity"]
            columnsByTable[table, default: []].append(
                (try row["columnname"], try row["datatype"], isIdentity == "YES"))
        }
        let keyRows = try postgres.fetchAll(
            sql: """
                SELECT k.table_name::text AS tablename, k.column_name::text AS columnname
                FROM information_schema.table_constraints c JOIN information_schema.key_column_usage k
                    ON k.constraint_schema = c.constraint_schema AND k.constraint_name = c.constraint_name
                        AND k.table_name = c.table_name
                WHERE c.constraint_type = 'PRIMARY KEY' AND c.table_schema = current_schema()
                ORDER BY k.table_name, k.ordinal_position
                """, arguments: [])
        var postgresKeys: [String: [String]] = [:]
        for row in keyRows { postgresKeys[try row["tablename"], default: []].append(try row["columnname"]) }
        let triggered = Set(
            try postgres.fetchColumn(
                String.self,
                sql: """
                    SELECT DISTINCT c.relname::text FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
                        JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE NOT t.tgisinternal AND n.nspname = current_schema()
                    """))

        let postgresDesk = Set(columnsByTable.keys).subtracting(postgresOnly)
        let sqliteDesk = Set(deskNames.map { $0.lowercased() })
        if let missing = sqliteDesk.subtracting(postgresDesk).sorted().first {
            throw schemaError("table \(missing) is in the SQLite desk but not in PostgreSQL")
        }
        if let extra = postgresDesk.subtracting(sqliteDesk).sorted().first {
            throw schemaError("table \(extra) is in PostgreSQL but not in the SQLite desk")
        }

        var tables: [CopyTable] = []
        for name in deskNames {
            let lowered = name.lowercased()
            let sqliteColumns = try sqlite.fetchAll(
                sql: "SELECT name, pk FROM pragma_table_info(?) ORDER BY cid", arguments: [name])
            var columns: [CopyColumn] = []
            var keyed: [(position: Int, column: String)] = []
            for row in sqliteColumns {
                let column: String = try row["name"]
                guard let typed = columnsByTable[lowered]?.first(where: { $0.name == column.lowercased() }) else {
                    throw schemaError("column \(name).\(column) is in the SQLite desk but not in PostgreSQL")
                }
                guard let kind = ColumnKind(postgresType: typed.type) else {
                    throw schemaError(
                        "column \(name).\(column) has PostgreSQL type \(typed.type), which the copy does not convert")
                }
                columns.append(CopyColumn(name: column, kind: kind, isIdentity: typed.identity))
                let position: Int = try row["pk"]
                if position > 0 { keyed.append((position, column)) }
            }
            let known = Set(columns.map { $0.name.lowercased() })
            for extra in columnsByTable[lowered] ?? [] where !known.contains(extra.name) {
                // SQLite's implicit rowid, which PostgreSQL spells out where the store orders by it (ties in time
                // keep their order): copied as it is.
                guard extra.name == "rowid", extra.type == "bigint" else {
                    throw schemaError("column \(name).\(extra.name) is in PostgreSQL but not in the SQLite desk")
                }
                columns.append(CopyColumn(name: "rowid", kind: .integer, isIdentity: extra.identity))
            }
            let primaryKey = keyed.sorted { $0.position < $1.position }.map(\.column)
            guard !primaryKey.isEmpty else {
                throw schemaError("table \(name) has no primary key to order its rows by")
            }
            guard primaryKey.map({ $0.lowercased() }) == postgresKeys[lowered] ?? [] else {
                throw schemaError("table \(name) has another primary key in PostgreSQL")
            }
            tables.append(
                CopyTable(
                    name: name, columns: columns, primaryKey: primaryKey, hasTriggers: triggered.contains(lowered)))
        }

        let references = try postgres.fetchAll(
            sql: """
                SELECT child.relname::text AS child, parent.relname::text AS parent
                FROM pg_constraint f JOIN pg_class child ON child.oid = f.conrelid
                    JOIN pg_class parent ON parent.oid = f.confrelid JOIN pg_namespace n ON n.oid = child.relnamespace
                WHERE f.contype = 'f' AND n.nspname = current_schema()
                """, arguments: [])
        var parents: [String: Set<String>] = [:]
        for row in references {
            let child: String = try row["child"]
            let parent: String = try row["parent"]
            // A table that refers to itself needs no order among tables (its rows go in key order; none does today).
            if child != parent, sqliteDesk.contains(parent) { parents[child, default: []].insert(parent) }
        }
        return try inForeignKeyOrder(tables, parents: parents)
    }

    /// `tables` with every table after the tables it refers to, otherwise in name order.
    static func inForeignKeyOrder(_ tables: [CopyTable], parents: [String: Set<String>]) throws -> [CopyTable] {
        var remaining = tables.sorted { $0.name < $1.name }
        var placed: Set<String> = []
        var ordered: [CopyTable] = []
        while !remaining.isEmpty {
            guard
                let next = remaining.firstIndex(where: { table in
                    (parents[table.name.lowercased()] ?? []).isSubset(of: placed)
                })
            else {
                throw schemaError(
                    "the tables \(remaining.map(\.name).joined(separator: ", ")) refer to each other in a cycle")
            }
            let table = remaining.remove(at: next)
            placed.insert(table.name.lowercased())
            ordered.append(table)
        }
        return ordered
    }

    static func schemaError(_ problem: String) -> DeskError {
        DeskError(
            .conflict, "the SQLite and PostgreSQL schemas are out of step: \(problem); use the same postdesk for both")
    }

    /// Refuses a target whose desk tables hold any row: the copy fills an empty desk, never merges into one.
    static func requireEmpty(_ plan: [CopyTable], in postgres: any SQLSession) throws {
        var filled: [String] = []
        for table in plan {
            let any = try postgres.fetchScalar(
                Int64.self, sql: "SELECT count(*) FROM (SELECT 1 FROM \(Side.postgres.table(table)) LIMIT 1) AS x")
            if (any ?? 0) > 0 { filled.append(table.name) }
        }
        guard filled.isEmpty else {
            throw DeskError(
                .conflict,
                "the PostgreSQL database already holds a desk (rows in \(filled.joined(separator: ", "))): "
                    + "store copy fills only an empty one; give it a new database")
        }
    }

    /// Copies one table in primary-key order, `batchRows` rows at a time, each batch as one multi-row INSERT (or a
    /// few, under PostgreSQL's limit of bound values and a few megabytes of bytes).
    static func copy(
        _ table: CopyTable, from sqlite: any SQLSession, to postgres: any SQLSession, batchRows: Int
    ) throws {
        let columnList = table.columns.map { Side.postgres.quote($0.name) }.joined(separator: ", ")
        let rowPlaceholders =
            "("
            + table.columns.map { column in
                // Milliseconds since 1970, exactly: a bound Date goes through a Double and can land a microsecond early.
                column.kind == .date ? "TIMESTAMPTZ 'epoch' + CAST(? AS BIGINT) * INTERVAL '1 millisecond'" : "?"
            }.joined(separator: ", ") + ")"
        // The ids as they are, also into a column PostgreSQL generates ALWAYS.
        let overriding = table.columns.contains(where: \.isIdentity) ? "OVERRIDING SYSTEM VALUE " : ""
        let maximumRows = max(1, min(batchRows, 30_000 / max(1, table.columns.count)))
        let maximumBytes = 8 << 20
        func insert(_ values: [[SQLValue]]) throws {
            guard !values.isEmpty else { return }
            let sql =
                "INSERT INTO \(Side.postgres.table(table)) (\(columnList)) \(overriding)VALUES "
                + Array(repeating: rowPlaceholders, count: values.count).joined(separator: ", ")
            do {
                try postgres.execute(sql: sql, arguments: SQLArguments(values.flatMap { $0 }))
            } catch let error as PSQLError {
                throw DeskError(.storage, "cannot copy table \(table.name): \(PostgresPool.describe(error))")
            }
        }
        try forEachBatch(of: table, on: .sqlite, in: sqlite, batchRows: batchRows) { rows in
            var pending: [[SQLValue]] = []
            var bytes = 0
            for row in rows {
                let values = try table.canonicalValues(of: row).map(\.bound)
                let size = values.reduce(0) { total, value in total + value.byteCount }
                if !pending.isEmpty && (pending.count >= maximumRows || bytes + size > maximumBytes) {
                    try insert(pending)
                    pending = []
                    bytes = 0
                }
                pending.append(values)
                bytes += size
            }
            try insert(pending)
        }
    }

    /// Sets each identity past the highest id the SQLite desk holds or ever gave (`sqlite_sequence`, which
    /// AUTOINCREMENT keeps, so that the ids of deleted rows are not given again).
    static func advanceSequences(_ plan: [CopyTable], sqlite: any SQLSession, postgres: any SQLSession) throws {
        let hasSequences =
            try sqlite.fetchScalar(
                Int64.self, sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'")
            == 1
        for table in plan {
            for column in table.columns where column.isIdentity {
                var highest =
                    try sqlite.fetchScalar(
                        Int64.self,
                        sql: "SELECT max(\(Side.sqlite.quote(column.name))) FROM \(Side.sqlite.table(table))") ?? 0
                if hasSequences,
                    let given = try sqlite.fetchScalar(
                        Int64.self, sql: "SELECT seq FROM sqlite_sequence WHERE name = ?", arguments: [table.name])
                {
                    highest = max(highest, given)
                }
                _ = try postgres.fetchAll(
                    sql: "SELECT setval(pg_get_serial_sequence(?, ?), ?, false)",
                    arguments: [table.name.lowercased(), column.name.lowercased(), highest + 1])
            }
        }
    }

    /// Row counts and checksums of every table on both sides, and the target's attachment files.
    static func compare(
        _ plan: [CopyTable], sqlite: any SQLSession, postgres: any SQLSession, attachments: URL, batchRows: Int
    ) throws -> StoreCopyReport {
        var tables: [StoreCopyReport.Table] = []
        for table in plan {
            let left = try digest(table, on: .sqlite, in: sqlite, batchRows: batchRows)
            let right = try digest(table, on: .postgres, in: postgres, batchRows: batchRows)
            tables.append(
                StoreCopyReport.Table(
                    name: table.name, sourceRows: left.rows, targetRows: right.rows, sourceChecksum: left.checksum,
                    targetChecksum: right.checksum))
        }
        let referenced = try postgres.fetchColumn(
            String.self, sql: "SELECT DISTINCT sha256 FROM attachment ORDER BY sha256")
        return StoreCopyReport(tables: tables, attachments: checkFiles(referenced, in: attachments))
    }

    /// A table's row count and the SHA-256 of its rows' canonical encoding, in primary-key order.
    static func digest(_ table: CopyTable, on side: Side, in session: any SQLSession, batchRows: Int) throws -> (
        rows: Int, checksum: String
    ) {
        var hash = SHA256()
        var count = 0
        try forEachBatch(of: table, on: side, in: session, batchRows: batchRows) { rows in
            for row in rows {
                var bytes: [UInt8] = []
                for value in try table.canonicalValues(of: row) { value.encode(into: &bytes) }
                hash.update(data: bytes)
                count += 1
            }
        }
        return (count, hexDigits(hash.finalize()))
    }

    /// Reads `table` in primary-key order (byte order for text, on both sides), `batchRows` rows at a time: from
    /// SQLite each batch after the last key of the one before (along the key's index), from PostgreSQL through one
    /// cursor (one sort, where text in byte order cannot use the key's index).
    static func forEachBatch(
        of table: CopyTable, on side: Side, in session: any SQLSession, batchRows: Int,
        _ body: ([SQLRow]) throws -> Void
    ) throws {
        // A batch of mails (inbound.raw, outbox.raw) is held in memory whole: a few at a time.
        let batchRows = table.columns.contains { $0.kind == .bytes } ? min(batchRows, 16) : batchRows
        let keyPositions = table.primaryKey.compactMap { key in table.columns.firstIndex { $0.name == key } }
        let key = keyPositions.map { side.orderingExpression(table.columns[$0]) }.joined(separator: ", ")
        let select =
            "SELECT \(table.columns.map { side.quote($0.name) }.joined(separator: ", ")) FROM \(side.table(table))"
        switch side {
        case .postgres:
            do {
                try session.execute(sql: "DECLARE store_copy_rows NO SCROLL CURSOR FOR \(select) ORDER BY \(key)")
                while true {
                    let rows = try session.fetchAll(
                        sql: "FETCH FORWARD \(batchRows) FROM store_copy_rows", arguments: [])
                    try body(rows)
                    guard rows.count == batchRows else { break }
                }
                try session.execute(sql: "CLOSE store_copy_rows")
            } catch let error as PSQLError {
                throw DeskError(.storage, "cannot read table \(table.name): \(PostgresPool.describe(error))")
            }
        case .sqlite:
            let first = "\(select) ORDER BY \(key) LIMIT ?"
            let next =
                "\(select) WHERE (\(key)) > (\(Array(repeating: "?", count: keyPositions.count).joined(separator: ", ")))"
                + " ORDER BY \(key) LIMIT ?"
            var after: [SQLValue]? = nil
            while true {
                let rows =
                    if let after {
                        try session.fetchAll(sql: next, arguments: SQLArguments(after) + [batchRows])
                    } else {
                        try session.fetchAll(sql: first, arguments: [batchRows])
                    }
                try body(rows)
                guard rows.count == batchRows, let last = rows.last else { return }
                after = keyPositions.map { last.values[$0] }
            }
        }
    }

    // MARK: Attachments

    /// Copies every attachment file the SQLite desk refers to into `targetAttachments`, each checked against its
    /// SHA-256 name on the way; a file already there with the right content is kept. Answers how many were written.
    func copyAttachments() async throws -> Int {
        let source = self.source
        let from = source.attachmentDirectory
        let to = targetAttachments
        return try await NIOThreadPool.singleton.runIfActive {
            let names = try source.readSQLiteSnapshot { sqlite in
                try sqlite.fetchColumn(String.self, sql: "SELECT DISTINCT sha256 FROM attachment ORDER BY sha256")
            }
            var written = 0
            for name in names {
                guard Self.isDigest(name) else {
                    throw DeskError(.storage, "the SQLite desk names an attachment \"\(name)\", which is not a SHA-256")
                }
                let file = Self.attachmentURL(name, in: from)
                guard let data = FileManager.default.contents(atPath: file.path) else {
                    throw DeskError(.storage, "attachment file \(file.path) is missing: the SQLite desk refers to it")
                }
                guard hexDigits(SHA256.hash(data: data)) == name else {
                    throw DeskError(.storage, "attachment file \(file.path) does not hold what its SHA-256 name says")
                }
                let copy = Self.attachmentURL(name, in: to)
                if let present = FileManager.default.contents(atPath: copy.path),
                    hexDigits(SHA256.hash(data: present)) == name
                {
                    continue
                }
                try Self.write(data, to: copy)
                written += 1
            }
            return written
        }
    }

    /// Writes a file whole or not at all: a temporary file beside it, renamed over it.
    static func write(_ data: Data, to file: URL) throws {
        do {
            try FileManager.default.createDirectory(
                at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            let temporary = file.appendingPathExtension("partial-\(UUID().uuidString)")
            try data.write(to: temporary)
            guard rename(temporary.path, file.path) == 0 else {
                let reason = String(cString: strerror(errno))
                try? FileManager.default.removeItem(at: temporary)
                throw DeskError(.storage, "cannot write attachment file \(file.path): \(reason)")
            }
        } catch let error as DeskError {
            throw error
        } catch {
            throw DeskError(.storage, "cannot write attachment file \(file.path): \(error)")
        }
    }

    /// Whether every file in `names` is in `directory` with the content its name says.
    static func checkFiles(_ names: [String], in directory: URL) -> StoreCopyReport.Attachments {
        var problems: [String] = []
        var bytes: Int64 = 0
        for name in names {
            guard isDigest(name) else {
                problems.append("attachment \"\(name)\" is not named by a SHA-256")
                continue
            }
            let file = attachmentURL(name, in: directory)
            guard let data = FileManager.default.contents(atPath: file.path) else {
                problems.append("attachment file \(file.path) is missing")
                continue
            }
            guard hexDigits(SHA256.hash(data: data)) == name else {
                problems.append("attachment file \(file.path) does not hold what its SHA-256 name says")
                continue
            }
            bytes += Int64(data.count)
        }
        return StoreCopyReport.Attachments(files: names.count, bytes: bytes, copied: 0, problems: problems)
    }

    /// Where the store keeps an attachment: its SHA-256's first two digits as a directory, then the digest.
    static func attachmentURL(_ sha256: String, in directory: URL) -> URL {
        directory.appendingPathComponent(String(sha256.prefix(2)), isDirectory: true).appendingPathComponent(sha256)
    }

    static func isDigest(_ name: String) -> Bool {
        name.utf8.count == 64 && name.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    // MARK: PostgreSQL

    /// How a transaction on the target begins.
    /// Runs `body` in one transaction on one connection, on one of the store's waiting threads (the statements and the
    /// SQLite reads inside block it). Run once: a conflict is an error here, since nothing else should use the database.
    private func transaction<T: Sendable>(
        _ kind: PostgresBackend.Kind, _ body: @escaping @Sendable (any SQLSession) throws -> T
    ) async throws -> T {
        let logger = self.logger
        do {
            return try await target.client.withConnection { connection in
                try await PostgresBackend.threads.runIfActive {
                    try PostgresSession(connection: connection, logger: logger).transaction(
                        begin: kind.begin, exclusive: false, body)
                }
            }
        } catch let error as PSQLError {
            throw DeskError(.storage, "the PostgreSQL transaction failed: \(PostgresPool.describe(error))")
        }
    }
}

/// A copy (or a later verification) that found the PostgreSQL desk different from the SQLite desk; its report says
/// which tables and files differ.
public struct StoreCopyMismatch: Error, CustomStringConvertible, Sendable {
    /// Every table's counts and checksums, and the attachment files' check.
    public let report: StoreCopyReport
    /// Whether the copy was rolled back (a copy's own verification), leaving the target as it was.
    public let rolledBack: Bool

    public var description: String {
        "the PostgreSQL desk does not match the SQLite desk: \(report.problems.joined(separator: "; "))"
            + (rolledBack ? "; the copy was rolled back, nothing was written to the database" : "")
    }
}

/// What a copy or verification found: each table's row count and checksum on both sides, and the attachment files.
public struct StoreCopyReport: Sendable, Codable, Equatable {
    /// One table on both sides.
    public struct Table: Sendable, Codable, Equatable {
        public var name: String
        public var sourceRows: Int
        public var targetRows: Int
        /// SHA-256 (hex) of the rows' canonical encoding in primary-key order: dates as milliseconds since 1970
        /// (UTC), flags and ids as integers, text as UTF-8, bytes as they are.
        public var sourceChecksum: String
        public var targetChecksum: String
        /// Same count and same checksum.
        public var matches: Bool

        public init(name: String, sourceRows: Int, targetRows: Int, sourceChecksum: String, targetChecksum: String) {
            self.name = name
            self.sourceRows = sourceRows
            self.targetRows = targetRows
            self.sourceChecksum = sourceChecksum
            self.targetChecksum = targetChecksum
            matches = sourceRows == targetRows && sourceChecksum == targetChecksum
        }
    }

    /// The attachment files the PostgreSQL desk refers to.
    public struct Attachments: Sendable, Codable, Equatable {
        /// Distinct files referred to.
        public var files: Int
        /// Their size in total (of those found intact).
        public var bytes: Int64
        /// How many this run wrote (the others were there already with the right content).
        public var copied: Int
        /// A missing file, or one whose content does not match its SHA-256 name.
        public var problems: [String]
    }

    /// In copy order: parents before children.
    public var tables: [Table]
    public var attachments: Attachments

    /// Every difference in words, each naming its table or file; empty when the copy is whole.
    public var problems: [String] {
        tables.filter { !$0.matches }.map { table in
            table.sourceRows == table.targetRows
                ? "table \(table.name): checksums differ"
                : "table \(table.name): \(table.sourceRows) rows in SQLite, \(table.targetRows) in PostgreSQL"
        } + attachments.problems
    }

    /// Whether every table and file matched.
    public var matches: Bool { problems.isEmpty }

    /// Rows in every table of the source.
    public var rows: Int { tables.reduce(0) { $0 + $1.sourceRows } }

    /// The table named `name`, if the copy has it.
    public func table(_ name: String) -> Table? { tables.first { $0.name == name } }
}

// MARK: The plan's parts

/// How a column's values are converted and compared, as its PostgreSQL type says.
enum ColumnKind: Sendable, Equatable {
    case integer, text, bytes, date

    init?(postgresType: String) {
        switch postgresType {
        case "bigint", "integer", "smallint": self = .integer
        case "text", "character varying": self = .text
        case "bytea": self = .bytes
        case "timestamp with time zone": self = .date
        default: return nil
        }
    }
}

/// One column: its name as SQLite spells it (PostgreSQL folds it to lower case), and its kind.
struct CopyColumn: Sendable {
    var name: String
    var kind: ColumnKind
    /// PostgreSQL gives it from a sequence (`GENERATED BY DEFAULT AS IDENTITY`).
    var isIdentity: Bool
}

/// One desk table to copy and compare.
struct CopyTable: Sendable {
    /// As SQLite spells it.
    var name: String
    var columns: [CopyColumn]
    /// The primary key's columns, in the key's order: the order rows are read, copied and checksummed in.
    var primaryKey: [String]
    /// PostgreSQL has triggers of its own on it (webhooks, the queue's counter), disabled while copying.
    var hasTriggers: Bool

    /// A row's values as the column kinds say, the same whichever side the row was read from.
    func canonicalValues(of row: SQLRow) throws -> [CanonicalValue] {
        try zip(columns, row.values).map { column, value in
            do {
                return try CanonicalValue(value, as: column.kind)
            } catch {
                throw DeskError(.storage, "table \(name), column \(column.name): \(error)")
            }
        }
    }
}

/// Which database a statement is for: how it quotes names and orders text keys.
enum Side {
    case sqlite, postgres

    /// A quoted name: SQLite's spelling, or PostgreSQL's lower-case fold of it.
    func quote(_ name: String) -> String {
        let spelled = self == .postgres ? name.lowercased() : name
        return "\"" + spelled.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    func table(_ table: CopyTable) -> String { quote(table.name) }

    /// A key column as rows are ordered by it: text in byte order on both sides (SQLite's BINARY is PostgreSQL's
    /// "C"; the database's own collation may order otherwise).
    func orderingExpression(_ column: CopyColumn) -> String {
        self == .postgres && column.kind == .text ? quote(column.name) + " COLLATE \"C\"" : quote(column.name)
    }
}

/// A value the copy cannot carry over as it is.
struct OutOfRange: Error, CustomStringConvertible {
    var description: String
}

/// A value as both sides must agree on it.
enum CanonicalValue: Equatable {
    case null
    case integer(Int64)
    case text(String)
    case bytes(Data)
    /// A date as milliseconds since 1970 (UTC): GRDB keeps dates to the millisecond.
    case milliseconds(Int64)

    init(_ value: SQLValue, as kind: ColumnKind) throws {
        if value == .null {
            self = .null
            return
        }
        switch kind {
        case .integer: self = .integer(try Int64(sqlValue: value))
        case .text: self = .text(try String(sqlValue: value))
        case .bytes: self = .bytes(try Data(sqlValue: value))
        case .date:
            let milliseconds = (try Date(sqlValue: value).timeIntervalSince1970 * 1000).rounded()
            guard milliseconds.isFinite, abs(milliseconds) < 9e15 else {
                throw OutOfRange(description: "the date \(value) is out of range")
            }
            self = .milliseconds(Int64(milliseconds))
        }
    }

    /// The value as the INSERT binds it (a date as its milliseconds, which the statement makes a TIMESTAMPTZ).
    var bound: SQLValue {
        switch self {
        case .null: .null
        case .integer(let value), .milliseconds(let value): .integer(value)
        case .text(let text): .text(text)
        case .bytes(let data): .blob(data)
        }
    }

    /// A tag byte, then the value: integers big-endian, text and bytes after their length.
    func encode(into bytes: inout [UInt8]) {
        func append(_ integer: UInt64) {
            withUnsafeBytes(of: integer.bigEndian) { bytes.append(contentsOf: $0) }
        }
        switch self {
        case .null:
            bytes.append(0)
        case .integer(let value):
            bytes.append(1)
            append(UInt64(bitPattern: value))
        case .text(let text):
            bytes.append(2)
            append(UInt64(text.utf8.count))
            bytes.append(contentsOf: text.utf8)
        case .bytes(let data):
            bytes.append(3)
            append(UInt64(data.count))
            bytes.append(contentsOf: data)
        case .milliseconds(let value):
            bytes.append(4)
            append(UInt64(bitPattern: value))
        }
    }
}

extension SQLValue {
    /// Roughly how many bytes the value takes in a statement, to keep one INSERT to a few megabytes.
    fileprivate var byteCount: Int {
        switch self {
        case .null: 1
        case .integer, .real, .date: 8
        case .text(let text): text.utf8.count
        case .blob(let data): data.count
        }
    }
}

/// Lower-case hex digits of a digest.
private func hexDigits(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { byte in
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]], as: UTF8.self)
    }.joined()
}

/// The SQLite desk's `postdesk.lock` (the one a server holds while it runs), held for the copy so that no server
/// starts on the desk meanwhile. A directory without one (a backup) is copied without it.
final class SourceLock: Sendable {
    private let descriptor: Int32

    init?(beside database: URL) throws {
        let directory = database.deletingLastPathComponent()
        let path = directory.appendingPathComponent("postdesk.lock").path
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw DeskError(.storage, "cannot open lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw DeskError(
                .conflict,
                "a postdesk server is running with data directory \(directory.path): stop it before copying its desk")
        }
        self.descriptor = descriptor
    }

    /// Lets go of the lock (also when the copy is dropped without `close()`).
    func release() {
        flock(descriptor, LOCK_UN)
    }

    deinit {
        close(descriptor)
    }
}
