import Foundation
import Logging
import MailServerHarness
import PostgresStore
import ServiceDesk
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A SQLite desk in a temporary data directory, made through the store's public API as a server would have made it:
/// a project, a request type, a channel, an agent, a webhook, two mails (one with an attachment, one in Japanese),
/// an agent's public reply (a comment and an outbox mail) and an assignment (webhook deliveries, queue versions).
struct SourceDesk {
    let directory: URL
    let store: DeskStore
    let attachment: [UInt8]

    var path: String { directory.appendingPathComponent("postdesk.sqlite").path }

    static func make() async throws -> SourceDesk {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "postdesk-copy-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try DeskStore(path: directory.appendingPathComponent("postdesk.sqlite").path, secrets: SecretBox())
        _ = try await store.createProject(key: "SD", name: "Service Desk", signup: .public)
        _ = try await store.addRequestType(
            projectKey: "SD", name: "Get help",
            fields: [
                RequestField(name: "summary", visible: true, required: true),
                RequestField(name: "description", visible: true, required: true),
            ])
        let channel = try await store.linkChannel(
            ChannelDraft(
                projectKey: "SD", address: "help@desk.test", protocol: .imap, host: "127.0.0.1", port: 10143,
                tls: .none, caFile: nil, username: "help@desk.test", password: "secret", requestTypeName: "Get help"),
            watermark: LinkWatermark(uidValidity: 7, uidNext: 1))
        let channelId = try #require(channel.id)
        let agent = try await store.addAgent(
            email: "agent@desk.test", name: "Agent", role: .agent, passwordHash: nil)
        _ = try await store.addWebhook(url: "http://127.0.0.1:9/hooks", events: [], projectKey: "SD")

        let attachment = Array("%PDF-1.4 the printer's manual \(UUID().uuidString)".utf8)
        let first = try await mail(
            store, channel: channelId, uid: "1",
            MailReading(
                senderAddress: "alice@customer.test", senderName: "Alice", subject: "Printer jammed",
                summary: "Printer jammed", description: "It is jammed.", commentText: "It is jammed.",
                messageID: "m1@customer.test",
                attachments: [
                    IncomingAttachment(
                        filename: "manual.pdf", contentType: "application/pdf", isInline: false, data: attachment)
                ]))
        #expect(first == .created("SD-1"))
        let second = try await mail(
            store, channel: channelId, uid: "2",
            MailReading(
                senderAddress: "hanako@customer.test", senderName: "花子", subject: "プリンターが動きません",
                summary: "プリンターが動きません", description: "紙詰まりです。", commentText: "紙詰まりです。",
                messageID: "m2@customer.test"))
        #expect(second == .created("SD-2"))
        _ = try await store.addAgentComment(
            requestKey: "SD-1", author: "agent@desk.test", body: "We are on it", isPublic: true)
        try await store.assignRequest(key: "SD-1", agentId: agent.id)
        return SourceDesk(directory: directory, store: store, attachment: attachment)
    }

    /// Stores a mail with unique bytes and processes `reading` of it.
    static func mail(_ store: DeskStore, channel: Int64, uid: String, _ reading: MailReading) async throws
        -> Disposition
    {
        let raw = Array("Message-ID: <\(UUID().uuidString)@t>\r\nFrom: \(reading.senderAddress)\r\n\r\nx".utf8)
        let received = try await store.receive(channelId: channel, raw: raw, mailboxUid: uid)
        guard case .stored(let id) = received else { throw DeskError(.conflict, "not stored: \(received)") }
        return try await store.process(reading, inboundId: id)
    }

    /// Removes the data directory (the database and its attachments).
    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    /// `sql`'s one integer on the SQLite desk.
    func scalar(_ sql: String) throws -> Int64? {
        try store.readSQLiteSnapshot { try $0.fetchScalar(Int64.self, sql: sql) }
    }
}

/// A fresh database on the test process's PostgreSQL, and an attachment directory for the desk there.
struct TargetDesk {
    let server: PostgresServer
    let database: String
    let attachments: URL

    /// A new database, owned by the tests' role; with `icuLocale`, one that orders text by that ICU locale.
    static func make(icuLocale: String? = nil) async throws -> TargetDesk {
        let server = try await PostgresServer.shared()
        let database: String
        if let icuLocale {
            database = "copy_icu_\(UUID().uuidString.prefix(8).lowercased())"
            try server.psql(
                "CREATE DATABASE \(database) OWNER \(server.user) TEMPLATE template0 LOCALE_PROVIDER icu "
                    + "ICU_LOCALE '\(icuLocale)' LOCALE 'C.UTF-8'")
        } else {
            database = try server.createDatabase(prefix: "copy")
        }
        return TargetDesk(
            server: server, database: database,
            attachments: FileManager.default.temporaryDirectory.appendingPathComponent(
                "postdesk-copy-attachments-\(UUID().uuidString)", isDirectory: true))
    }

    /// Removes the attachment directory (the database goes with the test's PostgreSQL server).
    func remove() {
        try? FileManager.default.removeItem(at: attachments)
    }

    var location: PostgresLocation {
        get throws { try PostgresLocation(url: server.url(database: database)) }
    }

    func copy(from source: SourceDesk) async throws -> StoreCopy {
        var copy = try await StoreCopy.open(
            sqlitePath: source.path, postgres: try location, attachmentDirectory: attachments,
            logger: PostgresDesk.logger)
        copy.batchRows = 2  // several batches even for these few rows
        return copy
    }

    /// One SQL command as the superuser; its first line of output.
    @discardableResult
    func psql(_ command: String) throws -> String {
        try server.psql(command, database: database).split(separator: "\n").first.map(String.init) ?? ""
    }
}

@Suite("StoreCopy: SQLite desk into PostgreSQL")
struct StoreCopyTests {
    @Test("every desk table is copied with its ids, verified by counts and checksums, attachments included")
    func copiesEverything() async throws {
        let source = try await SourceDesk.make()
        let target = try await TargetDesk.make()
        defer {
            source.remove()
            target.remove()
        }
        let copy = try await target.copy(from: source)
        let report = try await copy.copy()
        await copy.close()

        #expect(report.matches, "\(report.problems)")
        let names = report.tables.map(\.name)
        #expect(
            Set(names).isSuperset(of: ["project", "request", "comment", "inbound", "webhookDelivery", "queueVersion"]))
        #expect(!names.contains("searchCursor") && !names.contains { $0.hasPrefix("requestText") })
        #expect(!names.contains("grdb_migrations") && !names.contains("schemaMigration"))
        // Parents before children.
        let position = { (name: String) in names.firstIndex(of: name) ?? -1 }
        #expect(position("project") < position("requestType"))
        #expect(position("request") < position("comment"))
        #expect(position("inbound") < position("attachment"))
        #expect(position("webhook") < position("webhookDelivery"))
        for table in report.tables {
            #expect(table.sourceRows == table.targetRows, "\(table.name)")
            #expect(table.sourceChecksum == table.targetChecksum, "\(table.name)")
        }
        #expect(report.table("request")?.targetRows == 2)

        // The triggers were off: PostgreSQL has SQLite's deliveries and queue versions, no more.
        let deliveries = try #require(try source.scalar("SELECT count(*) FROM webhookDelivery"))
        #expect(deliveries >= 3)
        #expect(Int64(try target.psql("SELECT count(*) FROM webhookDelivery")) == deliveries)
        let version = try #require(try source.scalar("SELECT version FROM queueVersion"))
        #expect(Int64(try target.psql("SELECT version FROM queueVersion")) == version)
        #expect(try target.psql("SELECT summary FROM request WHERE key = 'SD-2'") == "プリンターが動きません")
        // Dates came across to the millisecond, as GRDB wrote them.
        let created = try source.store.readSQLiteSnapshot {
            try $0.fetchScalar(String.self, sql: "SELECT createdAt FROM request WHERE id = 1")
        }
        #expect(
            try target.psql(
                "SELECT to_char(createdAt AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') FROM request WHERE id = 1")
                == (created ?? "") + "000")

        let sha = try target.psql("SELECT sha256 FROM attachment")
        let file = target.attachments.appendingPathComponent(String(sha.prefix(2))).appendingPathComponent(sha)
        #expect(FileManager.default.contents(atPath: file.path).map { Array($0) } == source.attachment)
        #expect(report.attachments.files == 1 && report.attachments.copied == 1 && report.attachments.problems.isEmpty)
    }

    @Test("after the copy, new rows get the ids after the highest copied one")
    func sequencesContinue() async throws {
        let source = try await SourceDesk.make()
        let target = try await TargetDesk.make()
        defer {
            source.remove()
            target.remove()
        }
        // A removed webhook's id is not given again (SQLite's AUTOINCREMENT), on PostgreSQL either.
        let removed = try await source.store.addWebhook(url: "http://127.0.0.1:9/other", events: [], projectKey: nil)
        try await source.store.removeWebhook(id: removed.webhook.id)
        let copy = try await target.copy(from: source)
        _ = try await copy.copy()
        await copy.close()

        let desk = try await DeskStore.open(
            postgres: try target.location, secrets: SecretBox(), attachmentDirectory: target.attachments,
            maximumConnections: 2, logger: PostgresDesk.logger)
        let project = try await desk.createProject(key: "HR", name: "People", signup: .public)
        await desk.close()
        #expect(project.id == (try source.scalar("SELECT max(id) FROM project") ?? 0) + 1)
        #expect(
            Int64(try target.psql("SELECT nextval(pg_get_serial_sequence('webhook', 'id'))")) == removed.webhook.id + 1)
        #expect(try source.scalar("SELECT max(id) FROM webhook") == removed.webhook.id - 1)
        for table in ["customer", "comment", "webhookDelivery", "inbound"] {
            let highest = try #require(try source.scalar("SELECT max(id) FROM \(table)"))
            let next = try target.psql("SELECT nextval(pg_get_serial_sequence('\(table.lowercased())', 'id'))")
            #expect(Int64(next) == highest + 1, "\(table)")
        }
    }

    @Test("a target that already holds a desk is refused, and nothing is written to it")
    func refusesNonEmptyTarget() async throws {
        let source = try await SourceDesk.make()
        let target = try await TargetDesk.make()
        defer {
            source.remove()
            target.remove()
        }
        let copy = try await target.copy(from: source)
        _ = try await copy.copy()
        let requests = try target.psql("SELECT count(*) FROM request")

        let error = await #expect(throws: DeskError.self) { try await copy.copy() }
        #expect(error?.code == .conflict)
        #expect(error?.message.contains("already holds a desk") == true, "\(String(describing: error))")
        #expect(error?.message.contains("project") == true)
        #expect(try target.psql("SELECT count(*) FROM request") == requests)
        // The copy there is still whole.
        #expect(try await copy.verify().matches)
        await copy.close()
    }

    @Test("a target changed after the copy fails verification, naming each table and file that differs")
    func reportsTampering() async throws {
        let source = try await SourceDesk.make()
        let target = try await TargetDesk.make()
        defer {
            source.remove()
            target.remove()
        }
        let copy = try await target.copy(from: source)
        _ = try await copy.copy()

        try target.psql("UPDATE agent SET name = 'Mallory'")
        try target.psql("UPDATE project SET createdAt = createdAt + INTERVAL '1 millisecond'")
        try target.psql("INSERT INTO customerRule (projectId, kind, pattern) VALUES (1, 'block', 'spam.test')")
        let sha = try target.psql("SELECT sha256 FROM attachment")
        let file = target.attachments.appendingPathComponent(String(sha.prefix(2))).appendingPathComponent(sha)
        try Data("not the manual".utf8).write(to: file)

        let mismatch = await #expect(throws: StoreCopyMismatch.self) { try await copy.verify() }
        await copy.close()
        let report = try #require(mismatch?.report)
        #expect(Set(report.tables.filter { !$0.matches }.map(\.name)) == ["agent", "project", "customerRule"])
        #expect(report.table("customerRule")?.sourceRows == 0 && report.table("customerRule")?.targetRows == 1)
        #expect(report.table("agent")?.sourceRows == report.table("agent")?.targetRows)
        #expect(report.table("request")?.matches == true)
        let description = mismatch?.description ?? ""
        #expect(description.contains("table agent: checksums differ"), "\(description)")
        #expect(description.contains("table project: checksums differ"))
        #expect(description.contains("table customerRule: 0 rows in SQLite, 1 in PostgreSQL"))
        #expect(description.contains(sha))
        #expect(mismatch?.rolledBack == false)
    }

    @Test("text keys are compared in byte order on both sides, whatever the database's collation")
    func byteOrderKeys() async throws {
        let source = try await SourceDesk.make()
        let target = try await TargetDesk.make(icuLocale: "en-US")
        defer {
            source.remove()
            target.remove()
        }
        // "Z…" sorts before "m…" in bytes (SQLite's BINARY), after it in en-US.
        let channel = try #require(try source.scalar("SELECT id FROM channel"))
        _ = try await SourceDesk.mail(
            source.store, channel: channel, uid: "3",
            MailReading(
                senderAddress: "zoe@customer.test", subject: "Toner", summary: "Toner", description: "Empty.",
                commentText: "Empty.", messageID: "Z-upper@customer.test"))
        #expect(
            try target.server.psql(
                "SELECT string_agg(x, ',' ORDER BY x) FROM (VALUES ('Z'), ('m')) AS v(x)", database: target.database
            ).trimmingCharacters(in: .whitespacesAndNewlines) == "m,Z")

        let copy = try await target.copy(from: source)
        let report = try await copy.copy()
        #expect(try await copy.verify().matches)
        await copy.close()
        #expect(report.table("messageIndex")?.targetRows == 4)
        #expect(report.table("messageIndex")?.matches == true)
    }

    @Test("a rowid PostgreSQL spells out (messageIndex's) gets SQLite's implicit rowid, and its sequence continues")
    func implicitRowid() async throws {
        let source = try await SourceDesk.make()
        let target = try await TargetDesk.make()
        defer {
            source.remove()
            target.remove()
        }
        // Added last, sorted first: a rowid made afresh in key order would differ from SQLite's.
        let channel = try #require(try source.scalar("SELECT id FROM channel"))
        _ = try await SourceDesk.mail(
            source.store, channel: channel, uid: "3",
            MailReading(
                senderAddress: "ann@customer.test", subject: "Paper", summary: "Paper", description: "Out.",
                commentText: "Out.", messageID: "A-first@customer.test"))
        let copy = try await target.copy(from: source)
        // The schema as the store's port orders messageIndex (IF NOT EXISTS: the migration may have it already).
        try target.psql("ALTER TABLE messageIndex ADD COLUMN IF NOT EXISTS rowid BIGINT GENERATED ALWAYS AS IDENTITY")
        let report = try await copy.copy()
        await copy.close()
        #expect(report.table("messageIndex")?.matches == true)

        let sqliteRowids = try source.store.readSQLiteSnapshot {
            try $0.fetchColumn(Int64.self, sql: "SELECT rowid FROM messageIndex ORDER BY messageId")
        }
        let postgresRowids = try target.server.psql(
            "SELECT rowid FROM messageIndex ORDER BY messageId COLLATE \"C\"", database: target.database
        ).split(separator: "\n").compactMap { Int64($0) }
        #expect(postgresRowids == sqliteRowids)
        #expect(sqliteRowids.first == sqliteRowids.max())
        let next = try target.psql("SELECT nextval(pg_get_serial_sequence('messageindex', 'rowid'))")
        #expect(Int64(next) == (sqliteRowids.max() ?? 0) + 1)
    }

    @Test("a copy whose source is missing or whose data directory a server holds is refused")
    func refusesMissingOrRunningSource() async throws {
        let target = try await TargetDesk.make()
        let missing = await #expect(throws: DeskError.self) {
            _ = try await StoreCopy.open(
                sqlitePath: "/nonexistent/postdesk.sqlite", postgres: try target.location,
                attachmentDirectory: target.attachments, logger: PostgresDesk.logger)
        }
        #expect(missing?.code == .notFound)

        let source = try await SourceDesk.make()
        defer {
            source.remove()
            target.remove()
        }
        let lockPath = source.directory.appendingPathComponent("postdesk.lock").path
        let descriptor = open(lockPath, O_RDWR | O_CREAT, 0o600)
        #expect(descriptor >= 0)
        defer { close(descriptor) }
        #expect(flock(descriptor, LOCK_EX | LOCK_NB) == 0)
        let running = await #expect(throws: DeskError.self) { _ = try await target.copy(from: source) }
        #expect(running?.message.contains("server is running") == true, "\(String(describing: running))")
    }
}
