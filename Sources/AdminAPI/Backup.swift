import Foundation
import Hummingbird
import ServiceDesk

#if canImport(Glibc)
    import Glibc
#endif

/// `POST /v1/backup`: an online backup made by the running server (it owns the files), into a directory
/// the server's user can write.
struct BackupRoutes: Sendable {
    let store: DeskStore
    let secretKeyFile: URL

    func addRoutes(to group: RouterGroup<AdminRequestContext>) {
        group.post { request, context in
            let body = try await request.decode(as: BackupBody.self, context: context)
            guard body.directory.hasPrefix("/") else {
                throw DeskError(.invalid, "the backup directory must be an absolute path, not \(body.directory)")
            }
            return created(
                try await DataDirectoryBackup.backup(
                    store: store, secretKeyFile: body.includeSecretKey ? secretKeyFile : nil,
                    to: URL(fileURLWithPath: body.directory, isDirectory: true)))
        }
    }
}

/// Backing up a running server's data and restoring it into a stopped server's data directory.
public enum DataDirectoryBackup {
    /// The key file's name in a backup.
    static let keyName = "secret.key"

    /// Copies the database, its attachments and (when `secretKeyFile` is given) the key, then writes the
    /// manifest, last.
    static func backup(store: DeskStore, secretKeyFile: URL?, to directory: URL) async throws -> BackupManifest {
        var manifest = try await store.backup(to: directory)
        if let secretKeyFile {
            let key: Data
            do {
                key = try Data(contentsOf: secretKeyFile)
            } catch {
                throw DeskError(.storage, "cannot read the secret key \(secretKeyFile.path): \(error)")
            }
            try writePrivate(key, to: directory.appendingPathComponent(keyName))
            manifest.includesSecretKey = true
        }
        do {
            try AdminJSON.encoder().encode(manifest).write(
                to: directory.appendingPathComponent(BackupManifest.fileName), options: .atomic)
        } catch {
            throw DeskError(.storage, "cannot write the backup manifest in \(directory.path): \(error)")
        }
        return manifest
    }

    /// Restores a backup into `dataDirectory`, which must hold no database and no running server. Every
    /// attachment is checked against its SHA-256 and the database against the manifest before anything is
    /// written; the key goes to `secretKeyFile` unless a different key is already there.
    public static func restore(from backup: URL, into dataDirectory: URL, secretKeyFile: URL?) throws
        -> BackupManifest
    {
        let manifestURL = backup.appendingPathComponent(BackupManifest.fileName)
        let manifest: BackupManifest
        do {
            manifest = try AdminJSON.decoder().decode(BackupManifest.self, from: Data(contentsOf: manifestURL))
        } catch {
            throw DeskError(
                .invalid,
                "\(backup.path) is not a complete postdesk backup (no readable \(BackupManifest.fileName)): \(error)")
        }
        let database = backup.appendingPathComponent(BackupManifest.databaseName)
        let found = try DeskStore.describe(database: database)
        guard found.attachments == manifest.attachments, found.requests == manifest.requests,
            found.comments == manifest.comments
        else {
            throw DeskError(
                .invalid, "the database in \(backup.path) does not match its manifest; the backup is damaged")
        }

        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        let lock = try DataDirectoryLock(directory: dataDirectory)
        defer { lock.release() }
        let target = dataDirectory.appendingPathComponent(BackupManifest.databaseName)
        guard !FileManager.default.fileExists(atPath: target.path) else {
            throw DeskError(
                .conflict,
                "\(dataDirectory.path) already has a database; restore into a new data directory, or move \(target.path) away first"
            )
        }
        let keyTarget = secretKeyFile ?? dataDirectory.appendingPathComponent(keyName)
        let key = manifest.includesSecretKey ? try Data(contentsOf: backup.appendingPathComponent(keyName)) : nil
        if let key, let existing = try? Data(contentsOf: keyTarget), existing != key {
            throw DeskError(
                .conflict,
                "\(keyTarget.path) holds a different key than the backup; the restored passwords need the backup's key")
        }

        // Attachments first, then the database: a restore cut short leaves no database naming missing files.
        let attachments = dataDirectory.appendingPathComponent("attachments", isDirectory: true)
        for digest in manifest.attachments {
            try DeskStore.copyAttachment(
                digest, from: backup.appendingPathComponent("attachments", isDirectory: true), to: attachments)
        }
        if let key, !FileManager.default.fileExists(atPath: keyTarget.path) { try writePrivate(key, to: keyTarget) }
        let partial = dataDirectory.appendingPathComponent(BackupManifest.databaseName + ".restoring")
        try? FileManager.default.removeItem(at: partial)
        try DeskStore.copyDatabase(database, to: partial)
        guard rename(partial.path, target.path) == 0 else {
            throw DeskError(
                .storage, "cannot move the restored database into place: \(String(cString: strerror(errno)))")
        }
        return manifest
    }

    private static func writePrivate(_ data: Data, to url: URL) throws {
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw DeskError(.storage, "cannot create \(url.path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let written = data.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == data.count, fsync(descriptor) == 0 else {
            throw DeskError(.storage, "cannot write \(url.path): \(String(cString: strerror(errno)))")
        }
    }
}
