import Crypto
import Foundation
import GRDB

extension DeskStore {
    /// The last migration this postdesk knows: what it writes, and the newest schema it opens.
    public static var schemaVersion: String { migrator.migrations.last ?? "none" }

    /// An online, consistent copy of the database into `directory` (which must be new or empty), made with
    /// SQLite's backup API from one read snapshot while the server goes on writing, and the attachment files
    /// that snapshot references (they are written before the rows that name them, so each exists), each
    /// checked against its SHA-256. The manifest is written last: a directory without it is not a backup.
    public func backup(to directory: URL) async throws -> BackupManifest {
        try Self.prepareEmptyDirectory(directory)
        let target = directory.appendingPathComponent(BackupManifest.databaseName)
        do {
            // SQLite's backup API blocks its thread for the whole copy: not one of the cooperative pool's.
            guard let source = writer else {
                throw DeskError(.storage, "backup copies the SQLite store; a PostgreSQL desk is backed up with pg_dump")
            }
            try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
                DispatchQueue.global().async {
                    done.resume(
                        with: Result {
                            let copy = try DatabaseQueue(path: target.path)
                            try source.backup(to: copy)
                            // A rollback-journal file: it opens read-only and alone, with no -wal or -shm beside it.
                            try copy.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode = DELETE") }
                            try copy.close()
                        })
                }
            }
        } catch {
            throw DeskError(.storage, "cannot copy the database to \(target.path): \(error)")
        }
        let manifest = try Self.describe(database: target)
        for digest in manifest.attachments {
            try Self.copyAttachment(
                digest, from: attachmentDirectory,
                to: directory.appendingPathComponent("attachments", isDirectory: true))
        }
        return manifest
    }

    /// The schema, counts and referenced attachments of a database file, read without migrating it. A
    /// database written by a newer postdesk is refused, naming both versions.
    public static func describe(database: URL) throws -> BackupManifest {
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let queue = try DatabaseQueue(path: database.path, configuration: configuration)
            defer { try? queue.close() }
            return try queue.read { db in
                try checkKnownSchema(db, path: database.path)
                let integrity = try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "no answer"
                guard integrity == "ok" else {
                    throw DeskError(.storage, "database \(database.path) is damaged: \(integrity)")
                }
                let applied = try migrator.appliedIdentifiers(db)
                return BackupManifest(
                    schema: migrator.migrations.last { applied.contains($0) } ?? "none", createdAt: Date(),
                    requests: try Int.fetchOne(db, sql: "SELECT count(*) FROM request") ?? 0,
                    comments: try Int.fetchOne(db, sql: "SELECT count(*) FROM comment") ?? 0,
                    inbound: try Int.fetchOne(db, sql: "SELECT count(*) FROM inbound") ?? 0,
                    attachments: try String.fetchAll(
                        db, sql: "SELECT DISTINCT sha256 FROM attachment ORDER BY sha256"),
                    includesSecretKey: false)
            }
        } catch let error as DeskError {
            throw error
        } catch {
            throw DeskError(.storage, "cannot read database \(database.path): \(error)")
        }
    }

    /// Refuses a database that has migrations this postdesk does not know: it was written by a newer one,
    /// and opening it would run old code on a newer schema.
    static func checkKnownSchema(_ db: Database, path: String) throws {
        guard try db.tableExists("grdb_migrations") else { return }
        let known = Set(migrator.migrations)
        let unknown = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations").filter {
            !known.contains($0)
        }
        guard unknown.isEmpty else {
            throw DeskError(
                .conflict,
                "database \(path) was written by a newer postdesk (schema \(unknown.sorted().joined(separator: ", "))); "
                    + "this postdesk knows schemas up to \(schemaVersion): upgrade postdesk, or restore a backup made by this version"
            )
        }
    }

    /// Copies a database file (not in use by a server) with SQLite's backup API, into a rollback-journal file.
    public static func copyDatabase(_ source: URL, to target: URL) throws {
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let from = try DatabaseQueue(path: source.path, configuration: configuration)
            let copy = try DatabaseQueue(path: target.path)
            try from.backup(to: copy)
            try copy.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode = DELETE") }
            try copy.close()
            try from.close()
        } catch {
            throw DeskError(.storage, "cannot copy the database \(source.path) to \(target.path): \(error)")
        }
    }

    /// Copies one content-addressed attachment file into the same layout under `target`, checking its
    /// bytes against the name.
    public static func copyAttachment(_ digest: String, from source: URL, to target: URL) throws {
        let from = attachmentURL(sha256: digest, in: source)
        let to = attachmentURL(sha256: digest, in: target)
        let data: Data
        do {
            data = try Data(contentsOf: from)
        } catch {
            throw DeskError(.storage, "attachment \(digest) is referenced but cannot be read at \(from.path): \(error)")
        }
        guard hexDigits(SHA256.hash(data: data)) == digest else {
            throw DeskError(.storage, "attachment file \(from.path) does not match its SHA-256: it is damaged")
        }
        do {
            try FileManager.default.createDirectory(
                at: to.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: to, options: .atomic)
        } catch {
            throw DeskError(.storage, "cannot write attachment \(to.path): \(error)")
        }
    }

    /// Creates `directory`, or accepts it when it exists and is empty: a backup never overwrites anything.
    public static func prepareEmptyDirectory(_ directory: URL) throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: directory.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw DeskError(.invalid, "\(directory.path) is a file, not a directory")
            }
            guard (try? manager.contentsOfDirectory(atPath: directory.path))?.isEmpty == true else {
                throw DeskError(
                    .conflict, "\(directory.path) is not empty; a backup goes into a new or empty directory")
            }
            return
        }
        do {
            try manager.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw DeskError(.storage, "cannot create \(directory.path): \(error)")
        }
    }
}
